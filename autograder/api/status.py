"""Is the service up, and is grading moving: what a load balancer's probe and a TA at a
deadline ask ("is the queue long, or stuck?")."""
from __future__ import annotations

from flask import current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from autograder.access import require_user, staff_course
from autograder.api import bp, serialize
from autograder.api.queries import oldest_queued, running_submissions, unfinished
from autograder.db import get_session
from autograder.queue import broker_state


@bp.get("/health")
def health():
    """No login. 503 only when the database is unusable (no push can be recorded); a broker
    that is down leaves grading waiting but loses nothing, so it is "degraded"."""
    try:
        get_session().execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError as error:
        database = f"unavailable ({type(error).__name__})"
    broker = broker_state(current_app.config["BROKER_URL"])
    if database != "ok":
        status = "unavailable"
    else:
        status = "ok" if broker in ("ok", "not configured") else "degraded"
    return jsonify(status=status, database=database, broker=broker), \
        503 if status == "unavailable" else 200


@bp.get("/courses/<course_slug>/queue")
def queue(course_slug: str):
    """The course's unfinished submissions: counts by status, the oldest waiting, the running."""
    course = staff_course(course_slug, require_user())
    session = get_session()
    return jsonify(course=course.slug, counts=unfinished(session, course),
                   oldest_queued_at=serialize.timestamp(oldest_queued(session, course)),
                   running=[serialize.submission_summary(s)
                            for s in running_submissions(session, course)],
                   broker=broker_state(current_app.config["BROKER_URL"]))
