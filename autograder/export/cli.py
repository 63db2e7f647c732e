"""``autograder export --course C --format canvas > grades.csv``."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from autograder.db import get_session
from autograder.export import FORMATS, ExportError, ExportOptions
from autograder.gradebook import build_gradebook
from autograder.models import Course


@click.command("export")
@click.option("--course", "course_slug", required=True, help="the course slug")
@click.option("--format", "format_name", type=click.Choice(sorted(FORMATS)), default="canvas",
              show_default=True)
@click.option("--percent", is_flag=True, help="percentages instead of points")
@click.option("--decimals", type=click.IntRange(0, 6), default=2, show_default=True)
@click.option("--section", "sections", multiple=True, help="only these sections (repeatable)")
@click.option("--identifier", type=click.Choice(["email", "idnumber", "username"]),
              default="email", show_default=True, help="Moodle's identity column")
@click.option("--output", type=click.File("w", encoding="utf-8", lazy=True), default="-",
              help="file to write (default: standard output)")
@with_appcontext
def export(course_slug, format_name, percent, decimals, sections, identifier, output) -> None:
    """Write the course's gradebook as an LMS import CSV (UTF-8)."""
    session = get_session()
    course = session.scalar(select(Course).where(Course.slug == course_slug))
    if course is None:
        raise click.ClickException(f"no course {course_slug!r}")
    gradebook = build_gradebook(session, course, set(sections) or None)
    options = ExportOptions(percent=percent, decimals=decimals, identifier=identifier)
    try:
        output.write(FORMATS[format_name](gradebook, options))
    except ExportError as error:
        raise click.ClickException(str(error)) from None
