"""The JSON API, ``/api/v1``: results for students and staff, staff actions, the spec."""
from __future__ import annotations

from flask import Blueprint, jsonify
from werkzeug.exceptions import HTTPException

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.errorhandler(HTTPException)
def _json_error(error: HTTPException):
    response = jsonify(error=error.name, message=error.description)
    response.status_code = error.code
    if error.code == 401:
        response.headers.update(error.get_headers())
        response.content_type = "application/json"
    return response


from autograder.api import actions, export, results, spec, status  # noqa: E402,F401  (registers the routes)
