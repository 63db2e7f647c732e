"""LMS grade export over HTTP (instructors): the same CSV as ``autograder export``."""
from __future__ import annotations

from flask import Response, request
from werkzeug.exceptions import BadRequest, Forbidden

from autograder.access import course_for, require_user
from autograder.api import bp
from autograder.db import get_session
from autograder.export import FORMATS, ExportError, ExportOptions
from autograder.gradebook import build_gradebook
from autograder.models import Role

IDENTIFIERS = ("email", "idnumber", "username")


def _choice(name: str, choices, default: str) -> str:
    value = request.args.get(name, default)
    if value not in choices:
        raise BadRequest(f"{name}: one of {', '.join(choices)}, got {value!r}")
    return value


@bp.get("/courses/<course_slug>/export")
def export(course_slug: str):
    course, role = course_for(course_slug, require_user())
    if role is not Role.instructor:
        raise Forbidden("only the course's instructors export grades")
    format_name = _choice("format", sorted(FORMATS), "canvas")
    decimals = request.args.get("decimals", "2")
    if not decimals.isdigit() or int(decimals) > 6:
        raise BadRequest(f"decimals: a whole number from 0 to 6, got {decimals!r}")
    options = ExportOptions(percent=request.args.get("percent") == "true",
                            decimals=int(decimals),
                            identifier=_choice("identifier", IDENTIFIERS, "email"))
    sections = set(request.args.getlist("section")) or None
    try:
        text = FORMATS[format_name](build_gradebook(get_session(), course, sections), options)
    except ExportError as error:
        raise BadRequest(str(error)) from None
    filename = f"{course.slug}-{format_name}.csv"
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
