"""Re-enqueue submissions whose job was lost: the database, not Redis, is the truth.

A job is lost when Redis restarted with it queued (the submission stays "queued" past a
deadline) or when its worker died (the submission stays "running" past the hard time limit,
or at once when the worker process that claimed it is gone from this host); a job that lost
its worker ``max_lost_attempts`` times is given up (``infra_error``).  Re-sending is
safe: a duplicate delivery finds the submission claimed or graded and does nothing.
"""

import logging
from datetime import timedelta

from sqlalchemy import or_, select, update

from autograder.models import Submission, SubmissionStatus, utcnow
from workers.grading import give_up, lost_owner

log = logging.getLogger(__name__)


def stuck_submissions(session, queued_stale_s, running_stale_s):
    """Submissions queued or running for too long, or running for a dead worker."""
    now = utcnow()
    candidates = session.scalars(select(Submission).where(or_(
        Submission.status == SubmissionStatus.queued,
        Submission.status == SubmissionStatus.running)).order_by(Submission.id)).all()
    queued_before = now - timedelta(seconds=queued_stale_s)
    running_before = now - timedelta(seconds=running_stale_s)
    return [s for s in candidates if (
        s.status == SubmissionStatus.queued and s.pushed_at < queued_before) or (
        s.status == SubmissionStatus.running and (
            s.started_at is None or s.started_at < running_before or lost_owner(s)))]


def reconcile(sessions, settings, send, backlog=0):
    """Put stuck submissions back to "queued" and ``send`` each id; a lost job that has used
    up its attempts is given up instead.  Returns the ids sent.

    ``backlog`` is the number of messages waiting in the broker: while there are any, a
    submission long "queued" is probably just waiting its turn, so it is not re-sent (that
    would only pile duplicates onto a busy queue); once the queue is empty it surely is lost.
    """
    sent = []
    with sessions() as session:
        for submission in stuck_submissions(session, settings.queued_stale_s,
                                            settings.running_stale_s):
            if submission.status == SubmissionStatus.queued:
                if not backlog:
                    sent.append(submission.id)
            elif submission.attempts >= settings.max_lost_attempts:
                give_up(session, submission)
            elif session.execute(
                    update(Submission)
                    .where(Submission.id == submission.id,
                           Submission.attempts == submission.attempts,
                           Submission.status == SubmissionStatus.running)
                    .values(status=SubmissionStatus.queued,
                            status_detail="re-enqueued: its worker was lost")
                    .execution_options(synchronize_session=False)).rowcount:
                sent.append(submission.id)
        session.commit()
    if sent:
        log.warning("re-sent %d submission(s) whose job was lost: %s", len(sent), sent)
    for submission_id in sent:
        send(submission_id)
    return sent
