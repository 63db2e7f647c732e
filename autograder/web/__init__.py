"""Server-rendered pages: students' results and the TAs' working pages, built on the API's
own queries and rules (``autograder.access``, ``autograder.staff_actions``)."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from autograder.web.results_view import figures_shown
from autograder.web.text import first_line, student_text

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/assets")
bp.add_app_template_filter(student_text)
bp.add_app_template_global(figures_shown)
bp.add_app_template_global(first_line)


@bp.errorhandler(HTTPException)
@bp.errorhandler(404)    # by code too: the API's app-wide 404/405 handlers are code-specific,
@bp.errorhandler(405)    # and Flask prefers a code over a class
def _html_error(error: HTTPException):
    if error.code == 401 and request.method == "GET":
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    return render_template("web/error.html", error=error), error.code


from autograder.web import login, pages, staff_forms, student  # noqa: E402,F401  (routes)
