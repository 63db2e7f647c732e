"""Re-send submissions whose job was lost: the database, not Redis, is the truth.

The reconciler owns every unfinished state.  A submission is lost when no grading message
names it (``autograder.queue.submissions_in_broker``) although it is:

- ``queued`` for more than ``queued_stale_s`` (Redis restarted with it queued, or the push's
  enqueue failed while the broker was down): sent again, once its commit is checked to be on
  the graded branch; a commit git never put there (the API died between the hooks) is
  ``rejected`` instead, never graded;
- ``infra_error`` with its retry due (``retry_at`` passed, see ``plan_retry``): sent again;
- ``running`` past the hard time limit, or for a worker process of this host that is gone: put
  back to ``queued`` and sent again; one that lost its worker ``max_lost_attempts`` times
  is given up (``infra_error``).

Re-sending is safe: a duplicate delivery finds the submission claimed or graded and does
nothing.
"""

import logging
from datetime import timedelta

from sqlalchemy import or_, select, update

from autograder.git.repos import on_branch
from autograder.pushes.decide import reject
from autograder.models import Submission, SubmissionStatus, utcnow
from workers.grading import give_up, lost_owner

log = logging.getLogger(__name__)
NOT_ON_BRANCH = ("git never moved the branch to this commit (the push did not complete): "
                 "never graded; push again")


def unfinished(session):
    return session.scalars(select(Submission).where(or_(
        Submission.status == SubmissionStatus.queued,
        Submission.status == SubmissionStatus.running,
        Submission.retry_at.is_not(None) & (Submission.status == SubmissionStatus.infra_error),
    )).order_by(Submission.id)).all()


def reconcile(sessions, settings, send, in_broker):
    """Re-send each lost submission (``in_broker``: the ids the broker holds a message for);
    returns the ids sent."""
    now = utcnow()
    queued_before = now - timedelta(seconds=settings.queued_stale_s)
    running_before = now - timedelta(seconds=settings.running_stale_s)
    sent, rejected = [], []
    with sessions() as session:
        for submission in unfinished(session):
            status = submission.status
            if status == SubmissionStatus.running:
                if submission.started_at is None or submission.started_at < running_before \
                        or lost_owner(submission):
                    sent += _requeue_lost_worker(session, submission, settings)
            elif submission.id in in_broker:
                continue
            elif status == SubmissionStatus.queued and submission.pushed_at < queued_before:
                if _landed(submission, settings.repos_dir):
                    sent.append(submission.id)
                else:
                    rejected.append(submission.id)
            elif status == SubmissionStatus.infra_error and submission.retry_at <= now:
                sent += _take_back(session, submission, SubmissionStatus.infra_error,
                                   "retrying after an infrastructure error: "
                                   f"{submission.status_detail}")
        if rejected:
            reject(session, rejected, NOT_ON_BRANCH)
        session.commit()
    if rejected:
        log.warning("rejected %d submission(s) whose commit is not on the branch: %s",
                    len(rejected), rejected)
    if sent:
        log.warning("re-sent %d submission(s) whose job was lost: %s", len(sent), sent)
    for submission_id in sent:
        send(submission_id)
    return sent


def _landed(submission, repos_dir):
    """Whether the commit is on the graded branch; a repo we cannot see is left to the
    worker, which records that as an infrastructure error."""
    try:
        return on_branch(repos_dir / submission.repo.path, submission.commit_sha,
                         submission.branch)
    except (OSError, TypeError):
        return True


def _requeue_lost_worker(session, submission, settings):
    if submission.attempts >= settings.max_lost_attempts:
        give_up(session, submission)
        return []
    return _take_back(session, submission, SubmissionStatus.running,
                      "re-enqueued: its worker was lost")


def _take_back(session, submission, status, detail):
    """Put the submission back to "queued" unless someone else moved it meanwhile."""
    taken = session.execute(
        update(Submission)
        .where(Submission.id == submission.id, Submission.attempts == submission.attempts,
               Submission.status == status)
        .values(status=SubmissionStatus.queued, status_detail=detail, retry_at=None)
        .execution_options(synchronize_session=False)).rowcount
    return [submission.id] if taken else []


def plan_retry(sessions, submission_id, settings):
    """After an infrastructure fault: record when the next attempt is due (exponential
    back-off), or that there is none once ``max_retries`` retries were spent.  Returns the
    delay in seconds, or None."""
    with sessions() as session:
        submission = session.get(Submission, submission_id)
        if submission is None or submission.status != SubmissionStatus.infra_error:
            return None
        retried = submission.attempts <= settings.max_retries
        delay = settings.retry_backoff_s * 2 ** (submission.attempts - 1) if retried else None
        session.execute(
            update(Submission)
            .where(Submission.id == submission_id, Submission.attempts == submission.attempts,
                   Submission.status == SubmissionStatus.infra_error)
            .values(retry_at=utcnow() + timedelta(seconds=delay) if retried else None)
            .execution_options(synchronize_session=False))
        session.commit()
    return delay
