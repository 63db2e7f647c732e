"""A rubric grade as a Gradescope ``results.json``, for courses whose tools read that format.

Visibility maps onto Gradescope's words: a hidden check stays ``hidden``, an
``after_deadline`` one becomes ``after_due_date``. Top-level ``score`` is written so that
Gradescope uses our total (it overrides the sum of the tests).
"""
from __future__ import annotations

from autograder.rubric.engine import RubricGrade

VISIBILITY = {"public": "visible", "hidden": "hidden", "after_deadline": "after_due_date"}


def results_json(grade: RubricGrade, descriptions: dict[str, str] | None = None,
                 execution_time: float | None = None) -> dict:
    """The Gradescope document for ``grade``; ``descriptions`` name checks for students."""
    descriptions = descriptions or {}
    document = {
        "score": grade.points,
        "output": (f"{grade.module}: {grade.points:g} / {grade.max_points:g} "
                   f"(rubric {grade.rubric_version})"),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {"rubric_version": grade.rubric_version, "gated_by": list(grade.gated_by)},
        "tests": [{
            "name": descriptions.get(check.id, check.id),
            "number": check.id,
            "score": check.points,
            "max_score": check.max_points,
            "status": "passed" if check.outcome == "passed" else "failed",
            "output": check.message,
            "output_format": "text",
            "tags": [check.item],
            "visibility": VISIBILITY[check.visibility],
        } for check in grade.checks],
    }
    if execution_time is not None:
        document["execution_time"] = execution_time
    return document
