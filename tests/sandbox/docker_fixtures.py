"""Session fixtures shared by the sandbox and worker tests: a Docker client and one sandbox
image per test session (built on a fresh machine, reused after), with its build time shown."""

import time
import uuid

import pytest

from deploy import build_sandbox
from workers.docker_backend import DEPLOYMENT_LABEL


def wait_for(predicate, timeout, what):
    """Poll ``predicate`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def docker_or_skip():
    """A live Docker client, or a skip that says why (CI machines without Docker)."""
    docker = pytest.importorskip("docker", reason="the Docker SDK for Python is not installed")
    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:  # any failure to reach the daemon means the same: no Docker
        pytest.skip(f"Docker is not available here: {exc}")
    return client


@pytest.fixture(scope="session")
def docker_client():
    return docker_or_skip()


@pytest.fixture(scope="session")
def sandbox_deployment():
    """A deployment name of this test session's own, inherited by the workers it starts, so
    its checks see its containers only (other test runs may share the Docker host)."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUTOGRADER_SANDBOX_DEPLOYMENT", name)
        yield name


def sandbox_containers(docker_client, deployment):
    return docker_client.containers.list(
        all=True, ignore_removed=True, filters={"label": f"{DEPLOYMENT_LABEL}={deployment}"})


@pytest.fixture(scope="session")
def sandbox_image(docker_client, sandbox_deployment, request):
    """The runner image from ``deploy/build_sandbox.py``: built once, reused by input hash."""
    started = time.monotonic()
    tag = build_sandbox.ensure_image()
    seconds = time.monotonic() - started
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"sandbox image {tag} built or reused in {seconds:.1f} s")
    return tag


@pytest.fixture
def containers(docker_client, sandbox_deployment):
    """Lists this session's sandbox containers (a callable, to look again later)."""
    return lambda: sandbox_containers(docker_client, sandbox_deployment)


@pytest.fixture
def no_containers_left(docker_client, sandbox_deployment):
    """Fails the test if any sandbox container of this session outlives it."""
    yield
    left = sandbox_containers(docker_client, sandbox_deployment)
    assert left == [], f"sandbox containers left behind: {[c.name for c in left]}"
