"""The gradebook: one row per student, one final grade per assignment, read from the database.

It joins the roster, the computed grades and the active overrides, and leaves every rule to
``autograder.policy``, so the exports, the API and the TA pages agree on every number.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from autograder.course.course_file import CourseConfig, parse_course
from autograder.models import (Course, CourseRubric, Grade, GradeOverride, Membership, Role,
                               Submission, User)
from autograder.policy import Attempt, FinalGrade, Override, final_grade


@dataclass(frozen=True)
class Student:
    """The roster fields an LMS matches on."""
    user_id: int
    login: str
    name: str
    email: str | None
    student_number: str | None
    sis_id: str | None
    section: str | None


@dataclass(frozen=True)
class GradebookRow:
    student: Student
    grades: tuple[FinalGrade, ...]   # in the course's assignment order


@dataclass(frozen=True)
class Gradebook:
    course: CourseConfig
    rows: tuple[GradebookRow, ...]
    rubric_versions: dict[str, str] = field(default_factory=dict)   # assignment: version now

    def on_old_rubric(self, grade: FinalGrade) -> bool:
        """A computed grade that counts but came from an earlier version of its rubric (a
        rubric changed by ``course update`` and the regrade has not finished): exporting it
        would send a number the current rubric does not give."""
        current = self.rubric_versions.get(grade.assignment_id)
        return bool(grade.points is not None and grade.override is None and current
                    and grade.rubric_version and grade.rubric_version != current)

    def old_rubric_counts(self) -> dict[str, int]:
        """How many grades of each assignment :meth:`on_old_rubric`; only those with any."""
        counts: dict[str, int] = defaultdict(int)
        for row in self.rows:
            for grade in row.grades:
                if self.on_old_rubric(grade):
                    counts[grade.assignment_id] += 1
        return dict(counts)


def _utc(naive: datetime) -> datetime:
    # The database stores naive UTC (see autograder.models); policy compares aware times.
    return naive.replace(tzinfo=timezone.utc)


def _roster(session: Session, course: Course, sections: set[str] | None) -> list[Student]:
    query = (select(Membership, User).join(User, Membership.user_id == User.id)
             .where(Membership.course_id == course.id, Membership.role == Role.student)
             .order_by(User.name, User.login))
    students = [Student(user.id, user.login, user.name, user.email, member.student_number,
                        member.sis_id, member.section)
                for member, user in session.execute(query)]
    return [s for s in students if sections is None or s.section in sections]


def _attempts(session: Session, course: Course) -> dict[tuple[int, str], list[Attempt]]:
    """Graded attempts by (student, module); of several rubric versions, the newest grade."""
    query = (select(Grade, Submission).join(Submission, Grade.submission_id == Submission.id)
             .where(Submission.course_id == course.id).order_by(Grade.computed_at, Grade.id))
    newest: dict[tuple[int, str], tuple[int, Attempt]] = {}
    for grade, submission in session.execute(query):
        newest[(submission.id, grade.module)] = (submission.student_id, Attempt(
            submission.id, _utc(submission.pushed_at), grade.points, grade.max_points,
            grade.rubric_version))
    attempts: dict[tuple[int, str], list[Attempt]] = defaultdict(list)
    for (_, module), (student_id, attempt) in newest.items():
        attempts[(student_id, module)].append(attempt)
    return attempts


def _overrides(session: Session, course: Course) -> dict[tuple[int, str], list[Override]]:
    author = aliased(User)
    query = (select(GradeOverride, author.login)
             .join(author, GradeOverride.created_by_id == author.id)
             .where(GradeOverride.course_id == course.id, GradeOverride.revoked_at.is_(None)))
    overrides: dict[tuple[int, str], list[Override]] = defaultdict(list)
    for override, by in session.execute(query):
        overrides[(override.student_id, override.module)].append(
            Override(override.points, by, _utc(override.created_at), override.reason))
    return overrides


def build_gradebook(session: Session, course: Course,
                    sections: set[str] | None = None) -> Gradebook:
    """Every (filtered) student's final grade for every assignment of ``course``."""
    config = parse_course(course.config_yaml, f"course {course.slug}")
    attempts, overrides = _attempts(session, course), _overrides(session, course)
    rows = tuple(
        GradebookRow(student, tuple(
            final_grade(config, student.login, assignment,
                        attempts.get((student.user_id, assignment.id), []),
                        overrides.get((student.user_id, assignment.id), []))
            for assignment in config.assignments))
        for student in _roster(session, course, sections))
    versions = dict(session.execute(select(CourseRubric.assignment_id, CourseRubric.version)
                                    .where(CourseRubric.course_id == course.id)).all())
    return Gradebook(config, rows, versions)
