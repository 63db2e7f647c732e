"""JSON shapes of the API (documented in ``autograder/openapi.yaml``).

Students see public checks in full and hidden checks only as a count of passed ones: a hidden
check's id, message, figures or log would tell them what it tests.
"""
from __future__ import annotations

from datetime import datetime

from autograder.gradebook import Gradebook
from autograder.models import (AuditEvent, CheckResult, Grade, GradeOverride, Submission,
                               SubmissionStatus, Visibility)
from autograder.policy import FinalGrade


def timestamp(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds") + "Z"


# What a student reads instead of an infrastructure error's cause (it may name server paths,
# images or hosts: for staff only).
INFRA_ERROR_FOR_STUDENTS = ("the grader could not run this submission: our fault, never a "
                            "grade; it is retried, and the course staff can see the cause")


def _status_detail(submission: Submission, staff: bool) -> str | None:
    if submission.status is SubmissionStatus.infra_error and not staff:
        return INFRA_ERROR_FOR_STUDENTS
    return submission.status_detail


def submission_summary(submission: Submission, staff: bool = True) -> dict:
    return {
        "id": submission.id,
        "course": submission.course.slug,
        "student": submission.student.login,
        "commit": submission.commit_sha,
        "branch": submission.branch,
        "pushed_at": timestamp(submission.pushed_at),
        "status": submission.status.value,
        "status_detail": _status_detail(submission, staff),
    }


def _check(check: CheckResult) -> dict:
    return {"id": check.check_id, "module": check.module, "description": check.description,
            "visibility": check.visibility.value, "outcome": check.outcome.value,
            "message": check.message, "duration_s": check.duration_s,
            "figures": check.figures or {}, "log": check.log}


def isolation_hint(grade: Grade | None) -> str | None:
    """The line a student reads when the module was graded on the run with the reference's
    other modules (workers/isolation.py): where the bug its failing checks met really is."""
    cause = ((grade.isolation or {}) if grade is not None else {}).get("cause")
    return f"This module {cause}." if cause else None


def _grade(grade: Grade) -> dict:
    return {"module": grade.module, "points": grade.points, "max_points": grade.max_points,
            "rubric_version": grade.rubric_version, "computed_at": timestamp(grade.computed_at),
            "isolation": grade.isolation, "isolation_hint": isolation_hint(grade)}


def _hidden_summary(checks: list[CheckResult]) -> dict[str, dict[str, int]]:
    summary: dict[str, dict[str, int]] = {}
    for check in checks:
        counts = summary.setdefault(check.module, {"passed": 0, "total": 0})
        counts["total"] += 1
        counts["passed"] += check.outcome.value == "passed"
    return summary


def submission_detail(submission: Submission, staff: bool,
                      withheld: list[CheckResult]) -> dict:
    """``withheld``: the hidden checks this reader may not read yet
    (:func:`autograder.hidden_checks.withheld_checks`); ``hidden_checks`` counts them all."""
    hidden = [c for c in submission.checks if c.visibility is Visibility.hidden]
    shown = [c for c in submission.checks if c not in withheld]
    return {**submission_summary(submission, staff),
            "started_at": timestamp(submission.started_at),
            "finished_at": timestamp(submission.finished_at),
            "checks": [_check(c) for c in shown],
            "hidden_checks": _hidden_summary(hidden),
            "grades": [_grade(g) for g in submission.grades]}


def override(item: GradeOverride, student_login: str) -> dict:
    return {"id": item.id, "student": student_login, "module": item.module,
            "points": item.points, "reason": item.reason,
            "created_at": timestamp(item.created_at), "revoked_at": timestamp(item.revoked_at),
            "revoke_reason": item.revoke_reason}


def audit_event(event: AuditEvent) -> dict:
    return {"id": event.id, "actor": event.actor.login, "action": event.action,
            "detail": event.detail, "reason": event.reason,
            "created_at": timestamp(event.created_at)}


def _cell(book: Gradebook, grade: FinalGrade) -> dict:
    source = "override" if grade.override else ("computed" if grade.points is not None
                                               else "none")
    return {"points": grade.points, "max_points": grade.max_points, "source": source,
            "submission_id": grade.submission_id, "computed_points": grade.computed_points,
            "late_by_s": grade.late_by.total_seconds(), "penalty": grade.penalty,
            "note": grade.note, "rubric_version": grade.rubric_version or None,
            "on_old_rubric": book.on_old_rubric(grade)}


def gradebook(book: Gradebook) -> dict:
    return {
        "course": book.course.slug,
        "assignments": [{"id": a.id, "title": a.title, "points": a.points}
                        for a in book.course.assignments],
        "rows": [{"student": row.student.login, "name": row.student.name,
                  "email": row.student.email, "student_id": row.student.student_number,
                  "sis_id": row.student.sis_id, "section": row.student.section,
                  "cells": {g.assignment_id: _cell(book, g) for g in row.grades}}
                 for row in book.rows],
    }
