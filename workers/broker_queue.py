"""Which submissions the broker holds a grading message for, read from Redis itself.

The reconciler compares this with the database: an unfinished submission that no message
names (waiting in the queue at any priority, or delivered and not yet acknowledged, which
includes a retry waiting out its back-off on a worker) was lost, e.g. with a Redis restart,
and is re-sent at once instead of after a long staleness timeout.  The key names come from
kombu's Redis channel, so they follow the transport's own layout.
"""

import base64
import json

from autograder.queue import GRADE_TASK


def submissions_in_broker(app, queue):
    """Ids of the submissions with a grading message in ``queue`` or unacknowledged."""
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


def _submission_of(message):
    """The submission id a grading message names; None for any other task."""
    if message.get("headers", {}).get("task") != GRADE_TASK:
        return None
    body = message["body"]
    if message.get("properties", {}).get("body_encoding") == "base64":
        body = base64.b64decode(body)
    args, _kwargs, _embed = json.loads(body)
    return int(args[0])
