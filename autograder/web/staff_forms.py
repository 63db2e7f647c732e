"""The TA pages' buttons: regrade a submission, override a grade. Each is a form with a CSRF
token that calls the same code as the JSON API (``autograder.staff_actions``), so the rules
and the audit entry are the API's; then it goes back to the page with what happened."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from werkzeug.exceptions import BadRequest, Forbidden

from autograder.access import require_user, visible_submission
from autograder.models import STAFF_ROLES
from autograder.staff_actions import override, regrade
from autograder.web import bp


def _staff_submission(submission_id: int):
    user = require_user()
    submission, role = visible_submission(submission_id, user)
    if role not in STAFF_ROLES:
        raise Forbidden("only the course's TAs and instructors may do this")
    return user, submission


def form_points(raw: str | None) -> float:
    try:
        return float(raw or "")
    except ValueError:
        raise BadRequest(f"points: a number, got {raw!r}") from None


@bp.post("/submissions/<int:submission_id>/regrade")
def regrade_form(submission_id: int):
    user, submission = _staff_submission(submission_id)
    ids, sent = regrade(user, submission, request.form.get("reason"))
    flash(f"Regrade of submission {ids[0]} requested"
          + ("." if sent else "; the grading queue is unreachable, the reconciler sends it."))
    return redirect(url_for("web.submission", submission_id=submission_id))


@bp.post("/submissions/<int:submission_id>/override")
def override_form(submission_id: int):
    """Override the student's grade for one module, from that submission's page."""
    user, submission = _staff_submission(submission_id)
    item, student = override(user, submission.course, submission.student.login,
                             request.form.get("module"), form_points(request.form.get("points")),
                             request.form.get("reason"))
    flash(f"{student.login}'s {item.module} is now {item.points:g} points (override {item.id}).")
    return redirect(url_for("web.submission", submission_id=submission_id))
