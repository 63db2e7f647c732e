"""Course policy: deadlines, extensions, grace, late penalty, which attempt counts, overrides.

Pure functions on plain dataclasses, so every rule is testable without a database and the
gradebook, the API and the exports all apply the same ones. Times are timezone-aware.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from autograder.course.course_file import Assignment, CourseConfig, LatePolicy

_UNIT = {"day": timedelta(days=1), "hour": timedelta(hours=1)}


@dataclass(frozen=True)
class Attempt:
    """One graded submission of one assignment, on the rubric's own points scale."""
    submission_id: int
    submitted_at: datetime
    points: float
    max_points: float
    rubric_version: str = ""

    def __post_init__(self):
        # Refuse here, where the bad row is named, not deep inside a comparison later.
        if self.submitted_at.tzinfo is None:
            raise ValueError(f"submission {self.submission_id}: submitted_at has no timezone")
        if not self.max_points > 0:
            raise ValueError(f"submission {self.submission_id}: max_points must be > 0")


@dataclass(frozen=True)
class Override:
    """A TA's grade (on the assignment's scale) that replaces the computed one."""
    points: float
    by: str
    at: datetime
    reason: str


@dataclass(frozen=True)
class FinalGrade:
    """What the gradebook shows for one student and assignment, and why."""
    assignment_id: str
    points: float | None           # None: no grade (nothing that counts was submitted)
    max_points: float
    computed_points: float | None  # before an override
    late_by: timedelta = timedelta(0)
    penalty: float = 0.0           # points deducted for lateness
    submission_id: int | None = None
    override: Override | None = None
    note: str = ""
    excused: bool = False          # no grade counts; Canvas shows EX
    rubric_version: str = ""       # of the computed grade: "" when none was computed


def effective_deadline(course: CourseConfig, student: str, assignment: Assignment) -> datetime:
    """The assignment's deadline moved by the student's extensions (the latest one wins)."""
    due = assignment.deadline
    for extension in course.extensions_for(student, assignment.id):
        due = max(due, extension.until or assignment.deadline + extension.extra)
    return due


def closes_at(course: CourseConfig, deadline: datetime) -> datetime | None:
    """After this, submissions no longer count at all; None: they always count."""
    return None if course.close_after_deadline is None else deadline + course.close_after_deadline


def lateness(policy: LatePolicy, deadline: datetime, submitted_at: datetime) -> timedelta:
    """How late a submission is, measured from the deadline; zero within the grace period."""
    late = submitted_at - deadline
    return timedelta(0) if late <= timedelta(minutes=policy.grace_minutes) else late


def apply_late_penalty(policy: LatePolicy, points: float, max_points: float,
                       late_by: timedelta) -> float:
    """Points left after deducting ``penalty_percent`` of ``max_points`` per started unit.

    The deduction stops at ``floor_percent`` (a grade already below it is not raised) and a
    late grade is capped at ``cap_percent``. Monotone: later never scores more.
    """
    if late_by <= timedelta(0):
        return points
    units = math.ceil(late_by / _UNIT[policy.per])
    deducted = points - units * policy.penalty_percent / 100 * max_points
    result = max(deducted, min(points, policy.floor_percent / 100 * max_points))
    if policy.cap_percent is not None:
        result = min(result, policy.cap_percent / 100 * max_points)
    return result


def _scaled(attempt: Attempt, assignment: Assignment) -> float:
    return attempt.points / attempt.max_points * assignment.points


def _candidate(course: CourseConfig, assignment: Assignment, deadline: datetime,
               attempt: Attempt) -> FinalGrade:
    raw = _scaled(attempt, assignment)
    late_by = lateness(course.late_policy, deadline, attempt.submitted_at)
    points = apply_late_penalty(course.late_policy, raw, assignment.points, late_by)
    return FinalGrade(assignment.id, points, assignment.points, points, late_by, raw - points,
                      attempt.submission_id, rubric_version=attempt.rubric_version)


def computed_grade(course: CourseConfig, student: str, assignment: Assignment,
                   attempts: list[Attempt]) -> FinalGrade:
    """The grade the course's ``counts`` rule picks from the graded attempts."""
    deadline = effective_deadline(course, student, assignment)
    closing = closes_at(course, deadline)
    counted = sorted((a for a in attempts if closing is None or a.submitted_at <= closing),
                     key=lambda a: (a.submitted_at, a.submission_id))
    candidates = [_candidate(course, assignment, deadline, a) for a in counted]
    if course.counts == "latest_before_deadline":
        candidates = [c for c in candidates if c.late_by == timedelta(0)]
    if not candidates:
        reason = "before the deadline" if course.counts == "latest_before_deadline" and \
            counted else "that counts"
        return FinalGrade(assignment.id, None, assignment.points, None,
                          note=f"no graded submission {reason}")
    if course.counts == "best":
        # max() keeps the first of equals: among equal grades the earliest attempt counts.
        return max(candidates, key=lambda c: c.points)
    return candidates[-1]


def final_grade(course: CourseConfig, student: str, assignment: Assignment,
                attempts: list[Attempt], overrides: list[Override]) -> FinalGrade:
    """The computed grade, or excused, with the newest active override, if any, on top."""
    computed = computed_grade(course, student, assignment, attempts)
    excusal = course.excusal_for(student, assignment.id)
    if excusal is not None:
        computed = replace(computed, points=None, excused=True,
                           note=f"excused: {excusal.reason}" if excusal.reason else "excused")
    if not overrides:
        return computed
    newest = max(overrides, key=lambda o: o.at)
    return FinalGrade(assignment.id, newest.points, assignment.points, computed.points,
                      computed.late_by, computed.penalty, computed.submission_id, newest,
                      note=f"override by {newest.by}: {newest.reason}",
                      rubric_version=computed.rubric_version)
