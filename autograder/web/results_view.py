"""One submission as the pages show it: per assignment, points on the course's scale (the
gradebook's), the rubric's scale beside them, checks with identical errors grouped, hidden
checks as a count until their release, milestone figures, and whether it counts and why.

Every number comes from ``autograder.policy`` so the page agrees with the gradebook.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from autograder.api.serialize import isolation_hint
from autograder.course.course_file import Assignment, CourseConfig
from autograder.hidden_checks import withheld_checks
from autograder.models import CheckResult, Grade, Submission
from autograder.policy import (FinalGrade, apply_late_penalty, closes_at, effective_deadline,
                               lateness)
from autograder.web.text import group_by_message

_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
PLOT_FIGURES = ("curve", "curve_png")   # shown as the picture, not as numbers


@dataclass
class ModuleResult:
    assignment: Assignment
    grade: Grade | None              # the newest rubric version's
    points: float | None = None      # course scale, after the late penalty
    penalty: float = 0.0
    late_by: timedelta = timedelta(0)
    checks: list[CheckResult] = field(default_factory=list)   # those shown in full
    groups: list[tuple[str, list[CheckResult]]] = field(default_factory=list)
    hidden: tuple[int, int] | None = None   # (passed, total) when shown only as a count
    curves: list[tuple[str, str]] = field(default_factory=list)   # (check id, base64 PNG)
    counts: str = ""
    isolation: str | None = None    # where to look first, when isolation chose the other run

    @property
    def grouped(self) -> set[int]:
        return {check.id for _, items in self.groups for check in items}

    @property
    def passed(self) -> tuple[int, int]:
        """(passed, total) over every check of the assignment, hidden ones included."""
        hidden_passed, hidden_total = self.hidden or (0, 0)
        return (sum(c.outcome.value == "passed" for c in self.checks) + hidden_passed,
                len(self.checks) + hidden_total)


def submission_total(results: list[ModuleResult]) -> tuple[float, float]:
    """(points, possible) of one submission over its graded assignments, on the course's
    scale: what this push would be worth if every one of them counted."""
    graded = [r for r in results if r.points is not None]
    return sum(r.points for r in graded), sum(r.assignment.points for r in graded)


def _utc(naive: datetime) -> datetime:
    return naive.replace(tzinfo=timezone.utc)


def figures_shown(figures: dict) -> dict:
    return {k: v for k, v in sorted((figures or {}).items()) if k not in PLOT_FIGURES}


def _curves(checks: list[CheckResult]) -> list[tuple[str, str]]:
    """Each distinct training-curve PNG once (a milestone's checks share one)."""
    seen: dict[str, str] = {}
    for check in checks:
        png = (check.figures or {}).get("curve_png")
        if isinstance(png, str) and _BASE64.match(png) and png not in seen:
            seen[png] = check.check_id
    return [(check_id, png) for png, check_id in seen.items()]


def counts_reason(course: CourseConfig, submission: Submission, assignment: Assignment,
                  final: FinalGrade) -> str:
    """"counts" or "does not count: why", for this submission and assignment."""
    login = submission.student.login
    if final.override is not None:
        return (f"does not count: an override by {final.override.by} "
                f"({final.override.points:g} points) replaces the computed grade")
    if final.excused:
        return f"does not count: {final.note}"
    if final.submission_id == submission.id:
        return "counts" + (f" (late by {_hours(final.late_by)}, -{final.penalty:.2f} points)"
                           if final.penalty else "")
    deadline = effective_deadline(course, login, assignment)
    closing = closes_at(course, deadline)
    pushed = _utc(submission.pushed_at)
    if closing is not None and pushed > closing:
        return f"does not count: pushed after submissions closed ({closing:%Y-%m-%d %H:%M} UTC)"
    if course.counts == "latest_before_deadline" and \
            lateness(course.late_policy, deadline, pushed) > timedelta(0):
        return "does not count: pushed after the deadline, and this course counts only the " \
               "latest push before it"
    if final.submission_id is not None:
        rule = "the best grade counts" if course.counts == "best" else "the latest push counts"
        return f"does not count: submission {final.submission_id} counts instead ({rule})"
    return "does not count: not graded for this assignment"


def _hours(late_by: timedelta) -> str:
    hours = late_by.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"


def module_results(course: CourseConfig, submission: Submission, finals: dict[str, FinalGrade],
                   staff: bool, now: datetime) -> list[ModuleResult]:
    """The submission's assignments in course order; ``finals``: the student's gradebook row."""
    login = submission.student.login
    newest: dict[str, Grade] = {}
    for grade in sorted(submission.grades, key=lambda g: (g.computed_at, g.id)):
        newest[grade.module] = grade
    withheld = {c.id for c in withheld_checks(course, submission, staff, now)}
    results = []
    for assignment in course.assignments:
        checks = [c for c in submission.checks if c.module == assignment.id]
        grade = newest.get(assignment.id)
        if grade is None and not checks:
            continue
        item = ModuleResult(assignment, grade)
        if grade is not None and grade.max_points > 0:
            raw = grade.points / grade.max_points * assignment.points
            deadline = effective_deadline(course, login, assignment)
            item.late_by = lateness(course.late_policy, deadline, _utc(submission.pushed_at))
            item.points = apply_late_penalty(course.late_policy, raw, assignment.points,
                                             item.late_by)
            item.penalty = raw - item.points
        hidden = [c for c in checks if c.id in withheld]
        item.checks = [c for c in checks if c.id not in withheld]
        if hidden:
            item.hidden = (sum(c.outcome.value == "passed" for c in hidden), len(hidden))
        item.isolation = isolation_hint(grade)
        item.groups = group_by_message([c for c in item.checks if c.outcome.value != "passed"])
        item.curves = _curves(item.checks)
        if assignment.id in finals:
            item.counts = counts_reason(course, submission, assignment, finals[assignment.id])
        results.append(item)
    return results
