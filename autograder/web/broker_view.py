"""Which submissions the broker holds a grading message for, to flag a queued row that has
none ("stuck": nothing will grade it until the reconciler re-sends it).

Reads Celery's Redis transport as it stores messages: the waiting list (the queue's name)
and the ``unacked`` hash of messages a worker has taken (running, or a retry waiting for
its ETA). Read-only; a broker of another kind, or one that is down, answers None.
"""
from __future__ import annotations

import ast
import json

QUEUE = "celery"
UNACKED = "unacked"
TASK = "workers.tasks.grade_submission"
LIMIT = 10_000


def _submission_id(raw: bytes) -> tuple[int, str | None] | None:
    """(submission id, ETA) of one stored message, None if it is not a grading task."""
    try:
        message = json.loads(raw)
        if isinstance(message, list):      # unacked entries: [message, exchange, routing key]
            message = message[0]
        headers = message["headers"]
        if headers.get("task") != TASK:
            return None
        args = ast.literal_eval(headers["argsrepr"])
        return int(args[0]), headers.get("eta")
    except (ValueError, KeyError, TypeError, IndexError, SyntaxError):
        return None


def queued_in_broker(broker_url: str | None) -> dict[int, str | None] | None:
    """Submission id -> ETA (None: no delay) of every grading message the broker holds."""
    if not broker_url or not broker_url.startswith("redis"):
        return None
    import redis

    try:
        client = redis.Redis.from_url(broker_url, socket_timeout=3)
        raw = client.lrange(QUEUE, 0, LIMIT - 1) + client.hvals(UNACKED)
    except redis.RedisError:
        return None
    return dict(item for item in map(_submission_id, raw) if item is not None)
