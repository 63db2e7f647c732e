"""Which submissions the reconciler re-sends, and that it hands them back to "queued"."""

import subprocess
import sys
from datetime import timedelta

from autograder.models import Submission, SubmissionStatus, utcnow
from workers import grading, reconciler
from workers.owners import current_owner


def _dead_owner():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return current_owner().rpartition(":")[0] + f":{proc.pid}"


def _set(world, submission_id, **values):
    with world.sessions() as session:
        submission = session.get(Submission, submission_id)
        for name, value in values.items():
            setattr(submission, name, value)
        session.commit()


def test_reconciler_resends_lost_jobs_only(world, reference_package):
    settings = world.settings(queued_stale_s=600, task_hard_limit_s=60)
    now = utcnow()
    ids = {name: world.submit(name, reference_package) for name in (
        "queued_old", "queued_new", "running_stale", "running_dead", "running_alive", "graded")}
    _set(world, ids["queued_old"], pushed_at=now - timedelta(hours=1))
    _set(world, ids["running_stale"], status=SubmissionStatus.running,
         started_at=now - timedelta(seconds=200), status_detail="grading on elsewhere:1")
    _set(world, ids["running_dead"], status=SubmissionStatus.running, started_at=now,
         status_detail=grading.running_detail(_dead_owner()))
    _set(world, ids["running_alive"], status=SubmissionStatus.running, started_at=now,
         status_detail=grading.running_detail(current_owner()))
    _set(world, ids["graded"], status=SubmissionStatus.graded,
         pushed_at=now - timedelta(hours=1))
    sent = []
    assert reconciler.reconcile(world.sessions, settings, sent.append, in_broker=set()) == sent
    assert sorted(sent) == sorted([ids["queued_old"], ids["running_stale"], ids["running_dead"]])
    for name in ("running_stale", "running_dead"):
        requeued = world.submission(ids[name])
        assert requeued.status == SubmissionStatus.queued
        assert requeued.status_detail == "re-enqueued: its worker was lost"
    assert world.submission(ids["running_alive"]).status == SubmissionStatus.running


def test_a_submission_the_broker_still_holds_is_not_sent_twice(world, reference_package):
    submission_id = world.submit("waiting", reference_package)
    _set(world, submission_id, pushed_at=utcnow() - timedelta(hours=1))
    settings = world.settings(queued_stale_s=600)
    assert reconciler.reconcile(world.sessions, settings, print, {submission_id}) == []
    assert reconciler.reconcile(world.sessions, settings, print, set()) == [submission_id]


def test_a_queued_commit_that_never_reached_the_branch_is_rejected_not_graded(
        world, reference_package):
    """The API was killed between pre-receive (row committed) and git's ref update."""
    submission_id = world.submit("cut_off", reference_package)
    _set(world, submission_id, commit_sha="1" * 40, pushed_at=utcnow() - timedelta(hours=1))
    sent = []
    assert reconciler.reconcile(world.sessions, world.settings(), sent.append, set()) == []
    rejected = world.submission(submission_id)
    assert rejected.status == SubmissionStatus.rejected and sent == []
    assert rejected.status_detail == reconciler.NOT_ON_BRANCH


def test_a_retry_is_planned_with_back_off_and_sent_by_the_reconciler_when_due(
        world, reference_package):
    settings = world.settings(max_retries=2, retry_backoff_s=30)
    submission_id = world.submit("ann", reference_package)
    delays = []
    for attempts in (1, 2, 3):
        _set(world, submission_id, status=SubmissionStatus.infra_error, attempts=attempts,
             status_detail="sandbox image missing")
        delays.append(reconciler.plan_retry(world.sessions, submission_id, settings))
    assert delays == [30.0, 60.0, None]         # two retries, then given up
    assert world.submission(submission_id).retry_at is None
    sent = []
    assert reconciler.reconcile(world.sessions, settings, sent.append, set()) == []
    _set(world, submission_id, attempts=1, retry_at=utcnow() + timedelta(hours=1))
    assert reconciler.reconcile(world.sessions, settings, sent.append, set()) == []
    _set(world, submission_id, retry_at=utcnow() - timedelta(seconds=1))
    assert reconciler.reconcile(world.sessions, settings, sent.append, {submission_id}) == []
    assert reconciler.reconcile(world.sessions, settings, sent.append, set()) == [submission_id]
    resent = world.submission(submission_id)
    assert resent.status == SubmissionStatus.queued and resent.retry_at is None
    assert resent.status_detail == ("retrying after an infrastructure error: "
                                    "sandbox image missing")


def test_claim_refuses_a_live_job_takes_a_lost_one_and_gives_up_in_the_end(
        world, reference_package):
    settings = world.settings(max_lost_attempts=2)
    submission_id = world.submit("ref", reference_package)
    with world.sessions() as session:
        assert grading.claim(session, submission_id, settings) == 1
    with world.sessions() as session:
        assert grading.claim(session, submission_id, settings) is None
    _set(world, submission_id, status_detail=grading.running_detail(_dead_owner()))
    with world.sessions() as session:
        assert grading.claim(session, submission_id, settings) == 2
    _set(world, submission_id, status_detail=grading.running_detail(_dead_owner()))
    with world.sessions() as session:
        assert grading.claim(session, submission_id, settings) is None
    given_up = world.submission(submission_id)
    assert given_up.status == SubmissionStatus.infra_error and given_up.attempts == 2
    assert given_up.status_detail.startswith("given up after 2 attempts")


def test_reconciler_gives_up_a_job_that_keeps_losing_its_worker(world, reference_package):
    settings = world.settings(max_lost_attempts=3)
    submission_id = world.submit("ref", reference_package)
    _set(world, submission_id, status=SubmissionStatus.running, started_at=utcnow(), attempts=3,
         status_detail=grading.running_detail(_dead_owner()))
    sent = []
    assert reconciler.reconcile(world.sessions, settings, sent.append, set()) == []
    assert world.submission(submission_id).status == SubmissionStatus.infra_error
