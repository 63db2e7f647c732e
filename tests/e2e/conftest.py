"""The whole system for the end-to-end tests: real redis-server, gunicorn API, Celery worker
and Docker sandbox, started once per test session through ``deploy.stack`` (what the demo
runs), on a fresh SQLite database and a copy of the rubrics the tests may edit."""
from __future__ import annotations

import shutil

import pytest

from deploy.classroom import course_snapshot
from deploy.stack import CHECKOUT, LocalStack
from tests.sandbox.docker_fixtures import (  # noqa: F401
    docker_client, sandbox_deployment, sandbox_image)

# A lost grading message is re-sent within a test's patience, not a deployment's 5 minutes.
QUICK_RECONCILER = {"AUTOGRADER_RECONCILE_EVERY_S": "10", "AUTOGRADER_QUEUED_STALE_S": "30"}


@pytest.fixture(scope="session")
def rubrics_dir(tmp_path_factory):
    """The workers' rubrics directory: every test module's course snapshot lands here."""
    return tmp_path_factory.mktemp("rubrics")


@pytest.fixture(scope="module")
def rubrics(request, rubrics_dir):
    """The demo course cut to the test module's ``MODULES`` (no milestones), as a course of
    the module's own (slug ``e2e-<module>``); returns the course file.  A test may edit the
    rubrics of its modules there."""
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_").replace("_", "-")
    return course_snapshot(CHECKOUT / "rubrics" / "course.yaml", rubrics_dir,
                           modules=request.module.MODULES, milestones=[], slug=f"e2e-{name}")


@pytest.fixture(scope="session")
def stack(tmp_path_factory, rubrics_dir, sandbox_image):  # noqa: F811
    """One system for every end-to-end test (each has a course of its own on it)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (deploy/install.sh installs it)")
    root = tmp_path_factory.mktemp("stack")
    with LocalStack(root, sandbox_image=sandbox_image, rubrics_dir=rubrics_dir,
                    concurrency=2, worker_env=QUICK_RECONCILER) as running:
        yield running
