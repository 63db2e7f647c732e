"""Fixtures for the worker tests: a grading world, a real Redis, real Celery worker processes."""

import os
import signal
import subprocess
import sys

import pytest

from autograder.starter import generate_starter
from tests.sandbox.docker_fixtures import (  # noqa: F401
    containers, docker_client, no_containers_left, sandbox_deployment, sandbox_image, wait_for)
from tests.workers.grading_world import GradingWorld
from autograder.settings import CHECKOUT


@pytest.fixture
def world(tmp_path, migrated_database):
    return GradingWorld(tmp_path, migrated_database)


@pytest.fixture(scope="session")
def starter_package(tmp_path_factory):
    return generate_starter(tmp_path_factory.mktemp("starter") / "repo") / "tinytorch"


@pytest.fixture(scope="session")
def reference_package():
    return CHECKOUT / "tinytorch"


class CeleryWorker:
    """``celery -A workers.celery_app worker --beat`` as a real process group of its own."""

    def __init__(self, env, log_path, cwd):
        self.env, self.log_path, self.cwd, self.proc = env, log_path, cwd, None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--beat",
             "--concurrency", "1", "--loglevel", "INFO", "--without-gossip",
             "--without-mingle", "--without-heartbeat",
             "--schedule", str(self.cwd / "celerybeat-schedule")],
            cwd=self.cwd, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        wait_for(lambda: b"ready." in self.log_path.read_bytes() or self.proc.poll() is not None,
                 60, "the Celery worker to be ready")
        assert self.proc.poll() is None, self.output()
        return self

    def children(self):
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        return [int(pid) for pid in out.stdout.split()]

    def kill_all(self):
        """SIGKILL the whole worker (main process, pool, beat): no chance to clean up."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def shutdown(self):
        """A graceful stop (SIGTERM), as an operator does it."""
        self.proc.terminate()
        self.proc.wait(30)

    def stop(self):
        """At the end of a test: nothing to finish, so no warm shutdown to wait for."""
        if self.proc.poll() is None:
            self.kill_all()
        self.log.close()

    def output(self, tail=4000):
        text = self.log_path.read_text(errors="replace")
        return text[-tail:] if tail else text


@pytest.fixture
def start_worker(world, redis_server, sandbox_image, tmp_path):
    """Start real workers for ``world``; all are stopped at the end of the test."""
    started = []

    def start(**extra_env):
        settings = {"AUTOGRADER_BROKER_URL": redis_server.url,
                    "AUTOGRADER_SANDBOX_IMAGE": sandbox_image,
                    "AUTOGRADER_RECONCILE_EVERY_S": "1", "AUTOGRADER_QUEUED_STALE_S": "3",
                    "AUTOGRADER_RETRY_BACKOFF_S": "0.5", "AUTOGRADER_TASK_SOFT_LIMIT_S": "900",
                    "AUTOGRADER_SANDBOX_WARM": "0", **extra_env}
        env = {**os.environ, **world.env(**settings), "PYTHONPATH": str(CHECKOUT)}
        worker = CeleryWorker(env, tmp_path / "worker.log", tmp_path).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
