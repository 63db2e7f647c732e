"""Broker faults against a real Redis, a real Celery worker and the Docker sandbox: whatever
Redis loses, every submission is graded exactly once (lost = 0, graded twice = 0), and work
the broker lost is sent again within 30 s of Redis coming back, not after minutes."""

import subprocess

import pytest

from autograder.models import SubmissionStatus, utcnow
from autograder.queue import enqueue
from tests.sandbox.docker_fixtures import wait_for
from tests.workers.test_celery import slow_reference, wait_until_done
from tests.workers.grading_world import assert_all_pass

RECOVERY_S = 30
# The deployed reconciler's defaults (an empty value means the default), not the quick ones
# the other worker tests use: the recovery time is what a deployment really gets.
DEPLOYED_RECONCILER = {"AUTOGRADER_RECONCILE_EVERY_S": "", "AUTOGRADER_QUEUED_STALE_S": ""}


def assert_graded_once(world, submission_id, attempts=1, all_pass=True):
    """Graded, by exactly ``attempts`` claims, with one grade and each check once."""
    graded = wait_until_done(world, submission_id, timeout=180)
    assert graded.status == SubmissionStatus.graded, graded.status_detail
    assert graded.attempts == attempts and len(graded.grades) == 1
    assert len({c.check_id for c in graded.checks}) == len(graded.checks)
    if all_pass:
        assert_all_pass(graded)
    return graded


def started_within(world, submission_id, since, seconds, attempt=1):
    """The submission's ``attempt`` started at most ``seconds`` after ``since``."""
    started = wait_for(lambda: (s := world.submission(submission_id)).attempts >= attempt
                       and s.started_at, seconds + 60, f"submission {submission_id} to start")
    assert (started - since).total_seconds() < seconds, (started, since)


def test_a_push_saved_while_redis_is_down_is_graded_within_30_s_of_its_return(
        world, start_worker, redis_server, reference_package, containers):
    start_worker(**DEPLOYED_RECONCILER)
    redis_server.stop()
    submission_id = world.submit("ann", reference_package)
    with pytest.raises(Exception):       # what the push's post-receive meets
        enqueue([submission_id], redis_server.url)
    redis_server.start()
    back = utcnow()
    started_within(world, submission_id, back, RECOVERY_S)
    assert_graded_once(world, submission_id)
    assert containers() == []


def test_redis_restart_mid_job_loses_nothing_and_grades_nothing_twice(
        world, start_worker, redis_server, reference_package, containers, tmp_path):
    start_worker(**DEPLOYED_RECONCILER)
    in_flight = world.submit("ann", slow_reference(tmp_path, reference_package))
    waiting = world.submit("ben", reference_package)
    assert enqueue([in_flight, waiting], redis_server.url)
    wait_for(lambda: world.submission(in_flight).status == SubmissionStatus.running, 60,
             "the first job to start")
    redis_server.restart()               # the waiting message is gone with the old server
    back = utcnow()
    assert_graded_once(world, in_flight, all_pass=False)   # its slow import may time out
    free = max(back, world.submission(in_flight).finished_at)   # one pool process
    started_within(world, waiting, free, RECOVERY_S)
    assert_graded_once(world, waiting)
    assert containers() == []


@pytest.fixture
def image_that_appears_later(sandbox_image):
    """A sandbox image tag missing now (an infrastructure fault) that the test creates."""
    tag = f"{sandbox_image.partition(':')[0]}:appears-later"
    subprocess.run(["docker", "rmi", tag], capture_output=True)
    yield tag, lambda: subprocess.run(["docker", "tag", sandbox_image, tag], check=True)
    subprocess.run(["docker", "rmi", tag], capture_output=True)


def test_a_retry_waiting_out_its_back_off_survives_a_redis_restart(
        world, start_worker, redis_server, reference_package, containers,
        image_that_appears_later):
    tag, make_image = image_that_appears_later
    start_worker(AUTOGRADER_SANDBOX_IMAGE=tag, AUTOGRADER_RETRY_BACKOFF_S="5",
                 **DEPLOYED_RECONCILER)
    submission_id = world.submit("ann", reference_package)
    assert enqueue([submission_id], redis_server.url)
    retrying = wait_for(lambda: (s := world.submission(submission_id)).retry_at and s, 60,
                        "the first attempt to fail and plan its retry")
    assert retrying.status == SubmissionStatus.infra_error and retrying.attempts == 1
    redis_server.restart()               # nothing of the retry may live only in Redis
    make_image()
    started_within(world, submission_id, max(utcnow(), retrying.retry_at), RECOVERY_S,
                   attempt=2)
    assert_graded_once(world, submission_id, attempts=2)
    assert containers() == []
