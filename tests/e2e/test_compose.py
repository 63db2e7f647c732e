"""The compose deployment, where no registry exists: the service and Redis images build from
the no-registry base (``deploy/build_images.py``), and ``deploy/compose.yaml``'s redis, api
and worker containers take a real git push and grade it in the sandbox.  PostgreSQL needs its
registry image, so here the containers share SQLite on the compose ``data`` volume (the
PostgreSQL path of the same code is tested in tests/service/test_postgres.py)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid

import pytest
import requests

from deploy.build_images import APP_TAG, REDIS_TAG
from deploy.classroom import Classroom
from deploy.stack import CHECKOUT, StackError, free_port, wait_until
from deploy.student_repos import StudentClone, reference_package

MODULES = ["01_setup"]
COMPOSE_FILE = CHECKOUT / "deploy" / "compose.yaml"


pytestmark = pytest.mark.skipif(
    os.environ.get("AUTOGRADER_E2E_COMPOSE") == "0",
    reason="AUTOGRADER_E2E_COMPOSE=0: skipped on request (it builds the service and Redis "
           "images and runs containers: about 3 min on 2 cores)")


def _run(argv, env, what, timeout=900):
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise StackError(f"{what} failed ({done.returncode}):\n{done.stdout[-3000:]}"
                         f"{done.stderr[-3000:]}")
    return done


@pytest.fixture(scope="module")
def images(docker_client):
    _run([sys.executable, "-m", "deploy.build_images"], {**os.environ, "PYTHONPATH":
                                                        str(CHECKOUT)}, "build_images")
    return APP_TAG, REDIS_TAG


@pytest.fixture
def compose(images, rubrics, sandbox_image, sandbox_deployment):
    """redis, api and worker of the compose file, on this test's own project and volumes."""
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    port = free_port()
    env = {**os.environ, "AUTOGRADER_IMAGE": images[0], "REDIS_IMAGE": images[1],
           "AUTOGRADER_DATABASE_URL": "sqlite:////srv/autograder/data/autograder.sqlite3",
           "AUTOGRADER_RUBRICS_MOUNT": str(rubrics.parent),
           "AUTOGRADER_RUBRICS_DIR": str(rubrics.parent), "API_PORT": str(port),
           "AUTOGRADER_SANDBOX_IMAGE": sandbox_image, "AUTOGRADER_WORKER_CONCURRENCY": "1",
           "AUTOGRADER_SANDBOX_WARM": "0", "AUTOGRADER_SANDBOX_DEPLOYMENT": sandbox_deployment}
    base = ["docker-compose", "--file", str(COMPOSE_FILE), "--project-name",
            f"tinytorch-e2e-{uuid.uuid4().hex[:8]}"]
    url = f"http://127.0.0.1:{port}"
    try:
        _run([*base, "up", "--detach", "--no-deps", "redis", "api", "worker"], env,
             "docker-compose up")
        wait_until(lambda: _answers(url), 90, "the api container to answer")
        for service in ("api", "worker", "redis"):     # the compose file's health checks
            container = _run([*base, "ps", "-q", service], env, "docker-compose ps").stdout
            wait_until(lambda: _health(container.strip()) == "healthy", 120,
                       f"the {service} container's health check to pass")
        yield url, lambda *args: _run([*base, "exec", "-T", "api", "autograder", *args], env,
                                      f"autograder {' '.join(args)} in the api container")
    except StackError as exc:
        logs = subprocess.run([*base, "logs", "--tail", "60"], env=env, capture_output=True,
                              text=True).stdout
        pytest.fail(f"{exc}\n--- compose logs ---\n{logs}")
    finally:
        subprocess.run([*base, "down", "--volumes", "--timeout", "10"], env=env,
                       capture_output=True)


def _health(container):
    return subprocess.run(["docker", "inspect", "--format", "{{.State.Health.Status}}",
                           container], capture_output=True, text=True).stdout.strip()


def _answers(url):
    try:
        return requests.get(f"{url}/api/v1/openapi.json", timeout=3).ok
    except requests.RequestException:
        return False


def test_api_and_worker_containers_grade_a_push(compose, rubrics, tmp_path):
    url, cli = compose
    classroom = Classroom.create(cli, url, rubrics, [("compose-student", "Compose Student")])
    clone = StudentClone(url, classroom.slug, "compose-student",
                         classroom.tokens["compose-student"], tmp_path / "clone")
    push = clone.push(reference_package(tmp_path / "reference"), "graded by the containers")
    assert push.submission_id is not None, push.output
    classroom.wait_finished({push.submission_id}, 240)
    graded = classroom.submission(push.submission_id)
    assert graded["status"] == "graded", graded["status_detail"]
    assert [(g["module"], g["points"], g["max_points"]) for g in graded["grades"]] == \
        [("01_setup", 100.0, 100.0)]
