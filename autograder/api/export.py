"""LMS grade export over HTTP (instructors): the same CSV as ``autograder export``."""
from __future__ import annotations

from flask import Response, request
from sqlalchemy import select
from werkzeug.exceptions import BadRequest, Forbidden

from autograder.access import course_for, require_user
from autograder.api import bp
from autograder.api.params import choice, flag, whole_number
from autograder.db import get_session
from autograder.export import FORMATS, ExportError, ExportOptions
from autograder.gradebook import build_gradebook
from autograder.models import Course, Membership, Role

IDENTIFIERS = ("email", "idnumber", "username")


@bp.get("/courses/<course_slug>/export")
def export(course_slug: str):
    course, role = course_for(course_slug, require_user())
    if role is not Role.instructor:
        raise Forbidden("only the course's instructors export grades")
    format_name = choice(request.args, "format", sorted(FORMATS), "canvas")
    options = ExportOptions(percent=flag(request.args, "percent"),
                            decimals=whole_number(request.args, "decimals", 2, 0, 6),
                            identifier=choice(request.args, "identifier", IDENTIFIERS, "email"))
    sections = _sections(course)
    try:
        text = FORMATS[format_name](build_gradebook(get_session(), course, sections), options)
    except ExportError as error:
        raise BadRequest(str(error)) from None
    filename = f"{course.slug}-{format_name}.csv"
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _sections(course: Course) -> set[str] | None:
    """The ``section`` filter; a section no student is in is refused (an empty export would
    look like a course without grades)."""
    wanted = {value for value in request.args.getlist("section") if value}
    if not wanted:
        return None
    known = set(get_session().scalars(select(Membership.section).where(
        Membership.course_id == course.id, Membership.role == Role.student,
        Membership.section.is_not(None))))
    unknown = sorted(wanted - known)
    if unknown:
        raise BadRequest(f"section: no student of {course.slug} is in {', '.join(unknown)}; "
                         f"sections: {', '.join(sorted(known)) or 'none'}")
    return wanted
