"""Hand submissions to the Celery workers, by task name (no import of the worker code).

The submission row is always committed first, with status "queued": if the broker is down
or not configured, the row is the durable record and the workers' reconciler re-enqueues it.
"""
from __future__ import annotations

import base64
import functools
import json
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


def submissions_in_broker(app, queue: str = "celery") -> set[int]:
    """Ids of the submissions with a grading message in ``queue`` (at any priority) or
    delivered and not yet acknowledged. The key names come from kombu's Redis channel, so
    they follow the transport's own layout."""
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        client = channel.client
        waiting = [item for priority in channel.priority_steps
                   for item in client.lrange(channel._q_for_pri(queue, priority), 0, -1)]
        # Read after the lists: a message moving from a list to this hash meanwhile is seen.
        delivered = [json.loads(entry)[0] for entry in client.hvals(channel.unacked_key)]
    messages = [json.loads(item) for item in waiting] + delivered
    return {submission_id for message in messages
            if (submission_id := _submission_of(message)) is not None}


def queued_in_broker(broker_url: str | None) -> set[int] | None:
    """:func:`submissions_in_broker` of this deployment's broker; None when it is not Redis
    or cannot be read (then no queued row can be called stuck)."""
    if not broker_url or not broker_url.startswith("redis"):
        return None
    try:
        return submissions_in_broker(_sender(broker_url))
    except Exception:  # noqa: BLE001 - unreadable broker: the page says so
        return None


def _submission_of(message: dict) -> int | None:
    """The submission id a grading message names; None for any other task."""
    if message.get("headers", {}).get("task") != GRADE_TASK:
        return None
    body = message["body"]
    if message.get("properties", {}).get("body_encoding") == "base64":
        body = base64.b64decode(body)
    args, _kwargs, _embed = json.loads(body)
    return int(args[0])
