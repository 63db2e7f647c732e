"""Read endpoints: who am I, submissions (list and one), gradebooks, audit log."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app, jsonify, request
from werkzeug.exceptions import Forbidden

from autograder.access import course_for, require_user, staff_course, visible_submission
from autograder.api import bp
from autograder.api import serialize
from autograder.api.params import page_and_size, submission_filter
from autograder.api.queries import audit_log, list_submissions
from autograder.course.stored import course_config
from autograder.db import get_session
from autograder.gradebook import build_gradebook
from autograder.hidden_checks import withheld_checks
from autograder.models import STAFF_ROLES, Role


@bp.get("/me")
def me():
    user = require_user()
    return jsonify(login=user.login, name=user.name, courses=[
        {"slug": m.course.slug, "title": m.course.title, "role": m.role.value}
        for m in user.memberships])


@bp.get("/courses/<course_slug>/submissions")
def submissions(course_slug: str):
    """Staff see every submission; a student sees their own whatever ``student`` says."""
    user = require_user()
    course, role = course_for(course_slug, user)
    student = (request.args.get("student") or None) if role in STAFF_ROLES else user.login
    wanted = submission_filter(request.args, student)
    page, per_page = page_and_size(request.args, current_app.config["API_PAGE_SIZE_MAX"])
    items, total = list_submissions(get_session(), course, wanted, page, per_page)
    return jsonify(items=[serialize.submission_summary(s, role in STAFF_ROLES) for s in items],
                   page=page,
                   per_page=per_page, total=total)


@bp.get("/submissions/<int:submission_id>")
def submission(submission_id: int):
    submission, role = visible_submission(submission_id, require_user())
    staff = role in STAFF_ROLES
    withheld = withheld_checks(course_config(submission.course), submission, staff,
                               datetime.now(timezone.utc))
    return jsonify(serialize.submission_detail(submission, staff, withheld))


@bp.get("/courses/<course_slug>/gradebook")
def gradebook(course_slug: str):
    """The grade that counts per student and assignment, under the course's policy."""
    course = staff_course(course_slug, require_user())
    return jsonify(serialize.gradebook(build_gradebook(get_session(), course)))


@bp.get("/courses/<course_slug>/my-grades")
def my_grades(course_slug: str):
    """A student's own gradebook row: what counts, late penalties, overrides."""
    user = require_user()
    course, role = course_for(course_slug, user)
    if role is not Role.student:
        raise Forbidden("only students have grades; staff read the gradebook")
    book = serialize.gradebook(build_gradebook(get_session(), course))
    [row] = [r for r in book["rows"] if r["student"] == user.login]
    return jsonify(course=book["course"], assignments=book["assignments"], row=row)


@bp.get("/courses/<course_slug>/audit")
def audit(course_slug: str):
    course = staff_course(course_slug, require_user())
    return jsonify(items=[serialize.audit_event(e) for e in audit_log(get_session(), course)])
