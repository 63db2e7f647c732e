"""Staff actions: regrade (one submission, or a module after a rubric fix) and grade
overrides. Every action writes an AuditEvent with who, when and why.
"""
from __future__ import annotations

from flask import current_app, jsonify, request
from sqlalchemy import select
from werkzeug.exceptions import BadRequest, Forbidden, NotFound

from autograder.access import ID_MAX, require_user, staff_course, visible_submission
from autograder.api import bp, serialize
from autograder.course.stored import course_config
from autograder.db import get_session
from autograder.models import (STAFF_ROLES, AuditEvent, Course, Grade, GradeOverride,
                               Membership, Role, Submission, SubmissionStatus, User, utcnow)
from autograder.queue import enqueue


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("send a JSON object")
    return body


def _reason(body: dict) -> str:
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise BadRequest("reason: say why (a non-empty string); it goes to the audit log")
    return reason.strip()


def _requeue(submissions: list[Submission]) -> list[int]:
    """Mark for grading again; the results stay until the worker replaces them."""
    for submission in submissions:
        submission.status = SubmissionStatus.queued
        submission.status_detail = "regrade requested"
    return [s.id for s in submissions]


def _commit_and_enqueue(ids: list[int]) -> bool:
    get_session().commit()
    try:
        return enqueue(ids, current_app.config["BROKER_URL"])
    except Exception as error:  # rows are queued in the database; the reconciler sends them
        current_app.logger.warning("enqueue failed for %s: %s", ids, error)
        return False


@bp.post("/submissions/<int:submission_id>/regrade")
def regrade_submission(submission_id: int):
    user = require_user()
    submission, role = visible_submission(submission_id, user)
    if role not in STAFF_ROLES:
        raise Forbidden("only the course's TAs and instructors may do this")
    reason = _reason(_body())
    ids = _requeue([submission])
    get_session().add(AuditEvent(course_id=submission.course_id, actor_id=user.id,
                                 action="regrade", detail={"submissions": ids}, reason=reason))
    sent = _commit_and_enqueue(ids)
    return jsonify(submissions=ids, enqueued=sent), 202


def _known_module(course: Course, module: str) -> None:
    ids = [a.id for a in course_config(course).assignments]
    if module not in ids:
        raise NotFound(f"course {course.slug} has no module {module!r}; it has {', '.join(ids)}")


@bp.post("/courses/<course_slug>/modules/<module>/regrade")
def regrade_module(course_slug: str, module: str):
    """Regrade every submission that has a grade for ``module`` (after a rubric fix)."""
    user = require_user()
    course = staff_course(course_slug, user)
    _known_module(course, module)
    reason = _reason(_body())
    session = get_session()
    graded = session.scalars(select(Submission).where(
        Submission.course_id == course.id,
        Submission.id.in_(select(Grade.submission_id).where(Grade.module == module)))
        .order_by(Submission.id)).all()
    ids = _requeue(list(graded))
    session.add(AuditEvent(course_id=course.id, actor_id=user.id, action="regrade_module",
                           detail={"module": module, "submissions": ids}, reason=reason))
    sent = _commit_and_enqueue(ids)
    return jsonify(submissions=ids, enqueued=sent), 202


def _student(course: Course, login) -> User:
    student = get_session().scalar(select(User).join(Membership).where(
        Membership.course_id == course.id, Membership.role == Role.student, User.login == login))
    if student is None:
        raise BadRequest(f"student: {login!r} is not a student of {course.slug}")
    return student


@bp.post("/courses/<course_slug>/overrides")
def create_override(course_slug: str):
    """Set a student's module grade by hand; replaces (revokes) an earlier live override."""
    user = require_user()
    course = staff_course(course_slug, user)
    body = _body()
    reason = _reason(body)
    student = _student(course, body.get("student"))
    module = body.get("module")
    if not isinstance(module, str):
        raise BadRequest("module: a module id")
    _known_module(course, module)
    points = body.get("points")
    maximum = course_config(course).assignment(module).points
    if isinstance(points, bool) or not isinstance(points, (int, float)) \
            or not 0 <= points <= maximum:
        raise BadRequest(f"points: a number from 0 to {maximum:g}")
    session = get_session()
    for earlier in _live_overrides(course, student, module):
        _revoke(earlier, user, "replaced by a new override")
    item = GradeOverride(course_id=course.id, student_id=student.id, module=module,
                         points=float(points), reason=reason, created_by_id=user.id)
    session.add(item)
    session.flush()
    session.add(AuditEvent(course_id=course.id, actor_id=user.id, action="override",
                           detail={"override": item.id, "student": student.login,
                                   "module": module, "points": float(points)}, reason=reason))
    session.commit()
    return jsonify(serialize.override(item, student.login)), 201


def _live_overrides(course: Course, student: User, module: str) -> list[GradeOverride]:
    return list(get_session().scalars(select(GradeOverride).where(
        GradeOverride.course_id == course.id, GradeOverride.student_id == student.id,
        GradeOverride.module == module, GradeOverride.revoked_at.is_(None))))


def _revoke(item: GradeOverride, user: User, reason: str) -> None:
    item.revoked_at, item.revoked_by_id, item.revoke_reason = utcnow(), user.id, reason


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
    _revoke(item, user, reason)
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
