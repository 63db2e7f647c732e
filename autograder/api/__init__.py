"""The JSON API, ``/api/v1``: results for students and staff, staff actions, the spec."""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.errorhandler(HTTPException)
def _json_error(error: HTTPException):
    response = jsonify(error=error.name, message=error.description)
    response.status_code = error.code
    if error.code == 401:
        response.headers.update(error.get_headers())
        response.content_type = "application/json"
    return response



@bp.app_errorhandler(NotFound)
@bp.app_errorhandler(MethodNotAllowed)
def _json_unrouted(error: HTTPException):
    """A URL under /api/ that matches no route (``/submissions/abc``) answers JSON too; any
    other path keeps the app's own page."""
    return _json_error(error) if request.path.startswith(bp.url_prefix + "/") else error


from autograder.api import actions, export, results, spec, status  # noqa: E402,F401  (registers the routes)
