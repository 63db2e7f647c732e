"""Staff actions shared by the JSON API and the TA pages: regrade and grade overrides.

One implementation of the rules and the audit trail, so a button on a page and a call to the
API check the same things and leave the same AuditEvent (who, when, why).
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from werkzeug.exceptions import BadRequest, NotFound

from autograder.course.stored import course_config
from autograder.db import get_session
from autograder.models import (AuditEvent, Course, GradeOverride, Membership, Role, Submission,
                               SubmissionStatus, User, utcnow)
from autograder.queue import enqueue


def reason_text(reason) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise BadRequest("reason: say why (a non-empty string); it goes to the audit log")
    return reason.strip()


def requeue(submissions: list[Submission]) -> list[int]:
    """Mark for grading again; the results stay until the worker replaces them."""
    for submission in submissions:
        submission.status = SubmissionStatus.queued
        submission.status_detail = "regrade requested"
    return [s.id for s in submissions]


def commit_and_enqueue(ids: list[int]) -> bool:
    get_session().commit()
    try:
        return enqueue(ids, current_app.config["BROKER_URL"])
    except Exception as error:  # rows are queued in the database; the reconciler sends them
        current_app.logger.warning("enqueue failed for %s: %s", ids, error)
        return False


def regrade(user: User, submission: Submission, reason: str) -> tuple[list[int], bool]:
    """Queue one submission again, audited; the caller has checked the user is staff."""
    ids = requeue([submission])
    get_session().add(AuditEvent(course_id=submission.course_id, actor_id=user.id,
                                 action="regrade", detail={"submissions": ids},
                                 reason=reason_text(reason)))
    return ids, commit_and_enqueue(ids)


def known_module(course: Course, module: str) -> None:
    ids = [a.id for a in course_config(course).assignments]
    if module not in ids:
        raise NotFound(f"course {course.slug} has no module {module!r}; it has {', '.join(ids)}")


def course_student(course: Course, login) -> User:
    student = get_session().scalar(select(User).join(Membership).where(
        Membership.course_id == course.id, Membership.role == Role.student, User.login == login))
    if student is None:
        raise BadRequest(f"student: {login!r} is not a student of {course.slug}")
    return student


def live_overrides(course: Course, student: User, module: str) -> list[GradeOverride]:
    return list(get_session().scalars(select(GradeOverride).where(
        GradeOverride.course_id == course.id, GradeOverride.student_id == student.id,
        GradeOverride.module == module, GradeOverride.revoked_at.is_(None))))


def revoke(item: GradeOverride, user: User, reason: str) -> None:
    item.revoked_at, item.revoked_by_id, item.revoke_reason = utcnow(), user.id, reason


def override(user: User, course: Course, login, module, points, reason) -> tuple[
        GradeOverride, User]:
    """Set a student's module grade by hand, audited; replaces an earlier live override.

    The caller has checked the user is the course's staff; everything else is checked here.
    """
    reason = reason_text(reason)
    student = course_student(course, login)
    if not isinstance(module, str):
        raise BadRequest("module: a module id")
    known_module(course, module)
    maximum = course_config(course).assignment(module).points
    if isinstance(points, bool) or not isinstance(points, (int, float)) \
            or not 0 <= points <= maximum:
        raise BadRequest(f"points: a number from 0 to {maximum:g}")
    session = get_session()
    for earlier in live_overrides(course, student, module):
        revoke(earlier, user, "replaced by a new override")
    item = GradeOverride(course_id=course.id, student_id=student.id, module=module,
                         points=float(points), reason=reason, created_by_id=user.id)
    session.add(item)
    session.flush()
    session.add(AuditEvent(course_id=course.id, actor_id=user.id, action="override",
                           detail={"override": item.id, "student": student.login,
                                   "module": module, "points": float(points)}, reason=reason))
    session.commit()
    return item, student
