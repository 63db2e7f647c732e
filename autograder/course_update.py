"""``autograder course update`` and ``autograder regrade``: a course changes mid-term.

An update re-runs every check of ``course create`` (now against the course's roster), shows
what changes (the course file as a diff, each rubric by version), and applies it in one
transaction with an audit event, or nothing.  Grades keep their rubric version; a regrade
queues, at low priority, the submissions whose grade is not on the current rubric version,
and the gradebook uses a submission's newest grade once it is regraded.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from autograder.course.course_file import load_course
from autograder.course.stored import store_rubrics, validate_course_file
from autograder.models import (STAFF_ROLES, AuditEvent, Course, CourseRubric, Membership, Role,
                               Submission, SubmissionStatus, User)
from autograder.queue import REGRADE_DETAIL
from autograder.rubric.stale import stale_submissions


class UpdateRefused(ValueError):
    """The update or regrade cannot be made as asked (unknown course, actor, student)."""


@dataclass
class CourseChange:
    course: Course
    config_diff: str
    rubric_versions: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.config_diff and not self.rubric_versions

    def describe(self) -> str:
        lines = [self.config_diff.rstrip("\n")] if self.config_diff else []
        lines += [f"rubric of {assignment}: {old or '(none)'} -> {new or '(removed)'}"
                  for assignment, (old, new) in sorted(self.rubric_versions.items())]
        return "\n".join(lines) or f"course {self.course.slug}: no change"


def staff_member(session: Session, course: Course, login: str) -> User:
    """The TA or instructor of ``course`` who acts (the audit log names them)."""
    user = session.scalar(select(User).join(Membership).where(
        User.login == login, Membership.course_id == course.id,
        Membership.role.in_(STAFF_ROLES)))
    if user is None:
        raise UpdateRefused(f"--by {login}: not a TA or instructor of course {course.slug}")
    return user


def update_course(session: Session, path: Path, actor: str, reason: str,
                  dry_run: bool = False) -> CourseChange:
    """Check ``path`` as ``course create`` does and apply it to the course of its slug."""
    slug = _slug_of(path)
    course = session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        raise UpdateRefused(f"{path}: no course {slug!r}; create it with `autograder course "
                            f"create`")
    user = staff_member(session, course, actor)
    checked = validate_course_file(session, path, course)
    stored = {r.assignment_id: r.version for r in session.scalars(
        select(CourseRubric).where(CourseRubric.course_id == course.id))}
    current = {assignment: loaded.version for assignment, loaded in checked.rubrics.items()}
    change = CourseChange(course, "".join(difflib.unified_diff(
        course.config_yaml.splitlines(keepends=True), checked.text.splitlines(keepends=True),
        f"{slug} (current)", str(path))), {
        assignment: (stored.get(assignment), current.get(assignment))
        for assignment in stored.keys() | current.keys()
        if stored.get(assignment) != current.get(assignment)})
    if dry_run or change.empty:
        return change
    course.config_yaml, course.title = checked.text, checked.config.title
    course.graded_branch = checked.config.graded_branch
    store_rubrics(session, course, checked.rubrics)
    session.add(AuditEvent(course_id=course.id, actor_id=user.id, action="course_update",
                           detail={"config_changed": bool(change.config_diff),
                                   "rubric_versions": {a: list(v) for a, v in
                                                       change.rubric_versions.items()}},
                           reason=reason))
    session.commit()
    return change


def _slug_of(path: Path) -> str:
    """The course the file is for (schema errors, located, are raised here first)."""
    return load_course(path).slug


def regrade_selection(session: Session, course: Course, assignment: str | None,
                      students: list[str]) -> list[int]:
    """Finished submissions whose grade for ``assignment`` (every assignment when None) is
    not on its current rubric version, of ``students`` (everyone when empty)."""
    versions = {r.assignment_id: r.version for r in session.scalars(
        select(CourseRubric).where(CourseRubric.course_id == course.id))}
    if assignment is not None and assignment not in versions:
        raise UpdateRefused(f"--assignment {assignment}: course {course.slug} has "
                            f"{', '.join(sorted(versions)) or 'no stored rubric'}")
    wanted = [assignment] if assignment else sorted(versions)
    ids = {submission_id for module in wanted
           for submission_id in stale_submissions(session, course.id, module, versions[module])}
    if students:
        ids &= set(session.scalars(select(Submission.id).join(
            User, Submission.student_id == User.id).where(
            Submission.course_id == course.id, User.login.in_(_students(session, course,
                                                                        students)))))
    finished = (SubmissionStatus.graded, SubmissionStatus.failed)
    return sorted(session.scalars(select(Submission.id).where(
        Submission.id.in_(ids), Submission.status.in_(finished))))


def _students(session: Session, course: Course, logins: list[str]) -> list[str]:
    known = set(session.scalars(select(User.login).join(Membership).where(
        Membership.course_id == course.id, Membership.role == Role.student,
        User.login.in_(logins))))
    unknown = [login for login in logins if login not in known]
    if unknown:
        raise UpdateRefused(f"--students: not students of course {course.slug}: "
                            f"{', '.join(unknown)}")
    return logins


def mark_for_regrade(session: Session, course: Course, user: User, ids: list[int],
                     reason: str) -> None:
    """Queue ``ids`` in the database with an audit event (the caller sends them)."""
    for submission in session.scalars(select(Submission).where(Submission.id.in_(ids))):
        submission.status = SubmissionStatus.queued
        submission.status_detail = REGRADE_DETAIL
    session.add(AuditEvent(course_id=course.id, actor_id=user.id, action="regrade_update",
                           detail={"submissions": ids}, reason=reason))
    session.commit()
