"""Hand submissions to the Celery workers, by task name (no import of the worker code).

The submission row is always committed first, with status "queued": if the broker is down
or not configured, the row is the durable record and the workers' reconciler re-enqueues it.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable

GRADE_TASK = "workers.tasks.grade_submission"
# Fail fast: a push or an API call must not hang on an unreachable broker.
_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}


@functools.lru_cache(maxsize=4)
def _sender(broker_url: str):
    """One Celery app per broker for the life of the process: its pool of broker connections
    is shared by every push and API call (threads included), not opened per job."""
    import celery

    app = celery.Celery(broker=broker_url, set_as_current=False)
    app.conf.broker_connection_timeout = 3
    return app


# Redis serves lower numbers first: the reconciler's periodic task (0, Celery's default) is
# not stuck behind a deadline's backlog, a student's fresh push (3) goes before any bulk
# regrade a course update queued (9).
PUSH_PRIORITY = 3
REGRADE_PRIORITY = 9
REGRADE_DETAIL = "regrade after a rubric update (low priority)"   # marks such queued rows


def enqueue(submission_ids: Iterable[int], broker_url: str | None,
            priority: int = PUSH_PRIORITY) -> bool:
    """Send one grading task per id; False when there is no broker to send to."""
    ids = list(submission_ids)
    if not broker_url or not ids:
        return False
    sender = _sender(broker_url)
    for submission_id in ids:
        sender.send_task(GRADE_TASK, args=[submission_id], retry=True,
                         retry_policy=_RETRY_POLICY, priority=priority)
    return True


def broker_state(broker_url: str | None) -> str:
    """Whether the broker takes a new connection ("ok", "not configured", "unreachable
    (Error)"): new, so a broker that went away shows while pooled connections look open."""
    if not broker_url:
        return "not configured"
    try:
        with _sender(broker_url).connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=3)
    except Exception as error:  # noqa: BLE001 - any failure to connect is the answer
        return f"unreachable ({type(error).__name__})"
    return "ok"
