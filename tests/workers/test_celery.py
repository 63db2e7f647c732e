"""The grading workers as deployed: a real Redis, a real Celery worker process, real
containers.  End-to-end scores, hostile submissions, SIGKILL mid-job and a Redis restart."""

import os
import shutil
import signal

import pytest
import redis

from autograder.models import SubmissionStatus
from autograder.queue import enqueue
from tests.sandbox.docker_fixtures import wait_for
from tests.service.test_queue import PUSHES
from tests.sandbox.test_hostile import HOSTILE
from tests.workers.grading_world import assert_all_pass, outcomes
from harness.backends.local import LocalBackend

DONE = (SubmissionStatus.graded, SubmissionStatus.failed, SubmissionStatus.infra_error)


def wait_until_done(world, submission_id, timeout=120):
    return wait_for(lambda: (s := world.submission(submission_id)).status in DONE and s,
                    timeout, f"submission {submission_id} to be graded")


def slow_reference(tmp_path, reference_package, seconds=4):
    """The reference with a pause at import, so a job is surely mid-way when we strike."""
    package = tmp_path / "slow" / "tinytorch"
    shutil.copytree(reference_package, package, ignore=shutil.ignore_patterns("__pycache__"))
    init = package / "__init__.py"
    init.write_text(f"import time\ntime.sleep({seconds})\n" + init.read_text())
    return package


def test_reference_and_starter_graded_end_to_end_as_locally(
        world, start_worker, redis_server, reference_package, starter_package, containers):
    worker = start_worker(AUTOGRADER_SANDBOX_WARM="2")      # as deployed: warm spares
    ids = {login: world.submit(login, package)
           for login, package in (("ref", reference_package), ("starter", starter_package))}
    assert enqueue(ids.values(), redis_server.url)
    for login, submission_id in ids.items():
        graded = wait_until_done(world, submission_id)
        assert graded.status == SubmissionStatus.graded, graded.status_detail
        (grade,) = graded.grades
        local_results, local_grade = world.graded_with(LocalBackend(), submission_id)
        assert outcomes(graded.checks) == outcomes(local_results["checks"])
        timed_checks = set(c["id"] for c in local_results["checks"]) - set(
            outcomes(local_results["checks"]))
        slack = sum(s.max_points for s in local_grade.checks if s.id in timed_checks)
        assert abs(grade.points - local_grade.points) <= slack + 1e-9   # only timing differs
        if login == "ref":
            assert_all_pass(graded)
        else:
            assert grade.points == 0
        assert graded.attempts == 1
    assert worker.proc.poll() is None
    assert len(containers()) <= 2       # the spares, no used container
    worker.shutdown()
    assert worker.proc.returncode == 0
    assert containers() == []


def test_hostile_submission_is_contained_and_the_next_is_graded(
        world, start_worker, redis_server, reference_package, containers, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_SECRET_KEY", "worker-secret-0xC0FFEE")
    worker = start_worker()
    hostile = world.submit("mallory", HOSTILE / "flood_at_import")
    honest = world.submit("alice", reference_package)
    assert enqueue([hostile, honest], redis_server.url)
    contained = wait_until_done(world, hostile)
    assert contained.status == SubmissionStatus.graded and contained.grades[0].points == 0
    assert all(c.outcome.value == "failed" for c in contained.checks)
    assert not any("C0FFEE" in c.message for c in contained.checks)
    assert_all_pass(wait_until_done(world, honest))
    assert worker.proc.poll() is None
    assert containers() == []


@pytest.fixture
def job_in_flight(world, start_worker, redis_server, reference_package, containers, tmp_path):
    """A worker, and the id of a slow submission it is grading right now (a container runs)."""
    worker = start_worker()
    submission_id = world.submit("ref", slow_reference(tmp_path, reference_package))
    assert enqueue([submission_id], redis_server.url)
    wait_for(containers, 60, "the job's first container")
    return worker, submission_id


def assert_graded_once_after_a_retry(world, submission_id):
    graded = wait_until_done(world, submission_id)
    assert graded.status == SubmissionStatus.graded, graded.status_detail
    assert graded.attempts == 2 and len(graded.grades) == 1
    assert len({c.check_id for c in graded.checks}) == len(graded.checks)
    assert_all_pass(graded)


def test_pool_process_killed_mid_job_is_graded_exactly_once(world, job_in_flight,
                                                            containers):
    worker, submission_id = job_in_flight
    running = world.submission(submission_id)
    pool_process = int(running.status_detail.rpartition(":")[2])
    assert pool_process in worker.children()
    os.kill(pool_process, signal.SIGKILL)       # the worker lives on and redelivers the job
    assert_graded_once_after_a_retry(world, submission_id)
    wait_for(lambda: containers() == [], 30, "orphans to be swept")


def test_whole_worker_killed_mid_job_is_graded_once_after_restart(
        world, job_in_flight, start_worker, containers):
    worker, submission_id = job_in_flight
    worker.kill_all()
    assert world.submission(submission_id).status == SubmissionStatus.running
    assert containers(), "the killed worker's container should remain"
    start_worker()          # sweeps the orphan, its reconciler re-enqueues the lost job
    assert_graded_once_after_a_retry(world, submission_id)
    assert containers() == []


def test_redis_restart_loses_nothing(world, start_worker, redis_server, reference_package,
                                     containers):
    ids = [world.submit(login, reference_package) for login in ("ann", "ben")]
    assert enqueue(ids, redis_server.url)
    broker = redis.Redis.from_url(redis_server.url)
    assert broker.llen(PUSHES) == 2
    redis_server.restart()
    assert broker.llen(PUSHES) == 0            # the queue is gone with the old server
    start_worker()
    for submission_id in ids:
        graded = wait_until_done(world, submission_id)
        assert graded.status == SubmissionStatus.graded, graded.status_detail
        assert graded.attempts == 1
    assert containers() == []


def test_infrastructure_fault_is_retried_with_back_off_then_recorded_never_a_zero(
        world, start_worker, redis_server, reference_package, containers):
    worker = start_worker(AUTOGRADER_SANDBOX_IMAGE="tinytorch-sandbox:no-such-tag",
                          AUTOGRADER_MAX_RETRIES="2")
    submission_id = world.submit("ref", reference_package)
    assert enqueue([submission_id], redis_server.url)
    wait_for(lambda: world.submission(submission_id).attempts == 3, 60, "three attempts")
    faulted = wait_until_done(world, submission_id)
    assert faulted.status == SubmissionStatus.infra_error
    assert "sandbox image tinytorch-sandbox:no-such-tag is missing" in faulted.status_detail
    assert faulted.grades == [] and faulted.checks == []
    log = worker.output(tail=None)
    assert "retry in 0.5 s" in log and "retry in 1 s" in log and "out of retries" in log
    assert "retry in 2 s" not in log
    assert containers() == []
