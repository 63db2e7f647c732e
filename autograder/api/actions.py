"""Staff actions: regrade (one submission, or a module after a rubric fix) and grade
overrides. Every action writes an AuditEvent with who, when and why.
"""
from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import select
from werkzeug.exceptions import BadRequest, Forbidden, NotFound

from autograder.access import ID_MAX, require_user, staff_course, visible_submission
from autograder.api import bp, serialize
from autograder.db import get_session
from autograder.models import (STAFF_ROLES, AuditEvent, Course, Grade, GradeOverride,
                               Submission, User)
from autograder.staff_actions import (commit_and_enqueue, known_module, override, reason_text,
                                      regrade, requeue, revoke)


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("send a JSON object")
    return body


def _reason(body: dict) -> str:
    return reason_text(body.get("reason"))


@bp.post("/submissions/<int:submission_id>/regrade")
def regrade_submission(submission_id: int):
    user = require_user()
    submission, role = visible_submission(submission_id, user)
    if role not in STAFF_ROLES:
        raise Forbidden("only the course's TAs and instructors may do this")
    ids, sent = regrade(user, submission, _reason(_body()))
    return jsonify(submissions=ids, enqueued=sent), 202


@bp.post("/courses/<course_slug>/modules/<module>/regrade")
def regrade_module(course_slug: str, module: str):
    """Regrade every submission that has a grade for ``module`` (after a rubric fix)."""
    user = require_user()
    course = staff_course(course_slug, user)
    known_module(course, module)
    reason = _reason(_body())
    session = get_session()
    graded = session.scalars(select(Submission).where(
        Submission.course_id == course.id,
        Submission.id.in_(select(Grade.submission_id).where(Grade.module == module)))
        .order_by(Submission.id)).all()
    ids = requeue(list(graded))
    session.add(AuditEvent(course_id=course.id, actor_id=user.id, action="regrade_module",
                           detail={"module": module, "submissions": ids}, reason=reason))
    sent = commit_and_enqueue(ids)
    return jsonify(submissions=ids, enqueued=sent), 202


@bp.post("/courses/<course_slug>/overrides")
def create_override(course_slug: str):
    """Set a student's module grade by hand; replaces (revokes) an earlier live override."""
    user = require_user()
    course = staff_course(course_slug, user)
    body = _body()
    item, student = override(user, course, body.get("student"), body.get("module"),
                             body.get("points"), body.get("reason"))
    return jsonify(serialize.override(item, student.login)), 201


@bp.post("/overrides/<int:override_id>/revoke")
def revoke_override(override_id: int):
    """Undo an override: the computed grade counts again. The record stays."""
    user = require_user()
    session = get_session()
    item = session.get(GradeOverride, override_id) if override_id <= ID_MAX else None
    course = session.get(Course, item.course_id) if item is not None else None
    if course is None:
        raise NotFound(f"no override {override_id}")
    staff_course(course.slug, user)
    reason = _reason(_body())
    if item.revoked_at is not None:
        raise BadRequest(f"override {override_id} was already revoked")
    revoke(item, user, reason)
    student = session.get(User, item.student_id)
    session.add(AuditEvent(course_id=course.id, actor_id=user.id, action="override_revoked",
                           detail={"override": item.id, "student": student.login,
                                   "module": item.module}, reason=reason))
    session.commit()
    return jsonify(serialize.override(item, student.login))


@bp.get("/courses/<course_slug>/overrides")
def list_overrides(course_slug: str):
    course = staff_course(course_slug, require_user())
    rows = get_session().execute(select(GradeOverride, User.login).join(
        User, User.id == GradeOverride.student_id).where(GradeOverride.course_id == course.id)
        .order_by(GradeOverride.id.desc()))
    return jsonify(items=[serialize.override(item, login) for item, login in rows])
