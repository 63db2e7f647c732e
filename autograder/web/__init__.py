"""Server-rendered pages for TAs and instructors, built on the API's own queries."""
from __future__ import annotations

from flask import Blueprint, render_template
from werkzeug.exceptions import HTTPException

bp = Blueprint("web", __name__, template_folder="templates")


@bp.errorhandler(HTTPException)
def _html_error(error: HTTPException):
    # Keep WWW-Authenticate so a browser asks for the login and token.
    headers = [h for h in error.get_headers() if h[0].lower() == "www-authenticate"]
    return render_template("web/error.html", error=error), error.code, headers


from autograder.web import pages  # noqa: E402,F401  (registers the routes)
