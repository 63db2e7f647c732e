"""The Docker backend as a backend: infrastructure faults are reported as such, the wall
clock is enforced from this side, orphans are swept, and grades match the local backend."""

import os
import socket
import subprocess
import sys
import time

import pytest

from autograder.starter import generate_starter
from tests.grading.submission_tars import tar_of
from tests.sandbox.docker_fixtures import wait_for
from tests.workers.grading_world import outcomes
from harness.backends import BackendUnavailable, Limits
from workers.docker_backend import (EXPIRES_LABEL, OWNER_LABEL, DockerBackend,
                                     container_options, sweep_orphans)
from harness.backends.local import LocalBackend
from harness.runner_client import Runner
from harness.suite import REFERENCE_ROOT, run_suite


def test_missing_image_is_an_infrastructure_error(docker_client, no_containers_left):
    with pytest.raises(BackendUnavailable, match="sandbox image .* is missing"):
        DockerBackend("tinytorch-sandbox:no-such-tag", client=docker_client).start(Limits())


def test_unreachable_daemon_is_an_infrastructure_error(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    with pytest.raises(BackendUnavailable, match="Docker is not available"):
        DockerBackend().start(Limits())


def test_wall_clock_is_enforced_from_the_trusted_side(sandbox_image, no_containers_left):
    handle = DockerBackend(sandbox_image).start(Limits(wall_s=1.0))
    try:
        started = time.monotonic()
        assert handle.wait(15.0) == 137          # SIGKILL, though the runner waits for input
        assert time.monotonic() - started < 8.0  # 1 s, plus a loaded daemon's latency
        assert not handle.oom_killed()
    finally:
        handle.close()


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_sweep_removes_orphans_and_keeps_live_containers(sandbox_image, docker_client):
    host = socket.gethostname()
    now = time.time()

    def labelled(name, owner, expires):
        options = container_options(Limits(), sandbox_image)
        options["labels"].update({OWNER_LABEL: owner, EXPIRES_LABEL: str(int(expires))})
        options.update(command=["sleep", "60"], stdin_open=False, name=name)
        return docker_client.containers.run(**options)

    stamp = int(now * 1000)
    dead_owner = labelled(f"dead-owner-{stamp}", f"{host}:{_dead_pid()}", now + 600)
    expired = labelled(f"expired-{stamp}", f"{host}:{os.getpid()}", now - 1)
    live = labelled(f"live-{stamp}", f"{host}:{os.getpid()}", now + 600)
    try:
        assert sweep_orphans(docker_client) >= 2     # more if an earlier run left orphans
        remaining = {c.name for c in docker_client.containers.list(all=True)}
        assert live.name in remaining
        assert not {dead_owner.name, expired.name} & remaining
    finally:
        live.remove(force=True)


@pytest.fixture(scope="module")
def starter_root(tmp_path_factory):
    return generate_starter(tmp_path_factory.mktemp("starter") / "repo")


@pytest.mark.parametrize("which", ["reference", "starter"])
def test_docker_grades_exactly_as_local(which, sandbox_image, starter_root, no_containers_left):
    repo = REFERENCE_ROOT if which == "reference" else starter_root
    limits = Limits(wall_s=120)
    local = run_suite("02_tensor", repo, LocalBackend(), limits)
    sandboxed = run_suite("02_tensor", repo, DockerBackend(sandbox_image), limits)
    assert sandboxed["backend"] == "docker" and sandboxed["infrastructure_error"] is None
    expected = outcomes(local["checks"])        # timing checks aside: they follow the load
    assert len(expected) > 10 and outcomes(sandboxed["checks"]) == expected
    passed = sum(outcome == "passed" for outcome in expected.values())
    assert passed == len(expected) if which == "reference" else passed < len(expected)
    assert sandboxed["peak_mb"] and sandboxed["peak_mb"] > 1


def test_warm_spares_serve_one_runner_each_and_are_drained(sandbox_image, docker_client,
                                                         no_containers_left):
    backend = DockerBackend(sandbox_image, warm=1)
    limits, other = Limits(wall_s=30), Limits(wall_s=30, memory_mb=512)
    repo = tar_of({"tinytorch/__init__.py": "X = 7\n"})
    runners = [Runner(backend, limits, repo)]
    try:
        assert runners[0].eval("__import__('tinytorch').X") == 7        # a cold start
        wait_for(lambda: backend.ready_spares(limits) == 1, 30, "a warm spare")
        spare = backend._spares[limits][0].container.id
        runners.append(Runner(backend, limits, repo))
        assert runners[1].eval("__import__('tinytorch').X") == 7
        assert runners[1].handle.container.id == spare
        assert runners[0].handle.container.id != spare
        runners.append(Runner(backend, other, repo))    # other limits: never a spare's
        assert runners[2].eval("1") == 1
        assert runners[2].handle.container.attrs["HostConfig"]["Memory"] == 512 * 1024 * 1024
    finally:
        for runner in runners:
            runner.close()
        backend.drain()


def test_datasets_are_mounted_read_only(sandbox_image, tmp_path, no_containers_left):
    data = tmp_path / "cifar"
    data.mkdir(mode=0o755)
    (data / "batch.bin").write_bytes(b"pixels")
    (data / "batch.bin").chmod(0o644)
    limits = Limits(wall_s=30, datasets=((str(data), "/data/cifar"),))
    runner = Runner(DockerBackend(sandbox_image), limits, tar_of({"tinytorch/__init__.py": ""}))
    try:
        assert runner.eval("open('/data/cifar/batch.bin').read()") == "pixels"
        runner.exec("import errno\n"
                    "try:\n    open('/data/cifar/labels.bin', 'wb')\n"
                    "except OSError as e:\n    refused = errno.errorcode[e.errno]\n")
        assert runner.eval("refused") == "EROFS"
    finally:
        runner.close()
    assert sorted(p.name for p in data.iterdir()) == ["batch.bin"]


def test_spares_left_idle_are_retired(sandbox_image, monkeypatch, containers,
                                      no_containers_left):
    from workers import docker_backend as sandbox
    monkeypatch.setattr(sandbox, "SPARE_MAX_IDLE_S", 1.0)
    backend = DockerBackend(sandbox_image, warm=1)
    first, second = Limits(wall_s=30), Limits(wall_s=30, memory_mb=512)
    backend.start(first).close()
    wait_for(lambda: backend.ready_spares(first) == 1, 30, "a warm spare")
    idle = backend._spares[first][0].container.id
    time.sleep(1.2)
    backend.start(second).close()            # a job with other limits, after the idle time
    assert backend.ready_spares(first) == 0
    wait_for(lambda: idle not in {c.id for c in containers()}, 30, "the idle spare to go")
    wait_for(lambda: not backend._refilling.get(second), 30, "the refill to settle")
    backend.drain()
