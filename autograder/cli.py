"""``autograder ...``: database, courses, rosters, staff and tokens (plus the rubric, export
and starter commands, which live with their own modules).

Commands run inside the app built by ``create_app``, so they read the same configuration
(``AUTOGRADER_*`` variables, ``AUTOGRADER_CONFIG`` file) as the service.
"""
from __future__ import annotations

import csv
import sys
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo
from sqlalchemy import select

from autograder import create_app
from autograder.course.course_file import ConfigError
from autograder.course.stored import CourseExists, create_course
from autograder.db import get_session, upgrade_to_head
from autograder.models import Course, Membership, Role, User
from autograder.course.roster import RosterError, decode_roster, import_roster, parse_roster
from autograder.starter import generate_starter
from autograder.tokens import issue_token


# AppGroup runs each command inside the app from ``obj`` (tests pass their own app there).
@click.group(cls=AppGroup, context_settings={"obj": ScriptInfo(create_app=create_app)})
def main() -> None:
    """TinyTorch autograder administration."""


def _course(slug: str) -> Course:
    course = get_session().scalar(select(Course).where(Course.slug == slug))
    if course is None:
        raise click.ClickException(f"no course {slug!r}; create it with `autograder course create`")
    return course


def _print_tokens(rows: list[tuple[str, str, str]]) -> None:
    click.echo("# access tokens are shown only this once; hand each to its owner", err=True)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["login", "name", "token"])
    writer.writerows(rows)


@main.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    upgrade_to_head(current_app.config["DATABASE_URL"])
    click.echo("database is at the latest schema")


@main.group()
def course() -> None:
    """Courses."""


@course.command("create")
@click.argument("course_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def course_create(course_file: Path) -> None:
    """Create a course from its YAML file (validated, rubric files included)."""
    try:
        created = create_course(get_session(), course_file)
    except (ConfigError, CourseExists) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"created course {created.slug!r} ({created.title})")


@main.group()
def roster() -> None:
    """Course rosters."""


@roster.command("import")
@click.argument("course_slug")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--starter", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="directory committed into each new repo (default: the STARTER_DIR "
                   "setting, else the starter generated from the reference tinytorch/)")
@click.option("--empty", is_flag=True, help="seed nothing; students push the first commit")
@click.option("--encoding", default="utf-8-sig", show_default=True)
def roster_import(course_slug: str, csv_file: Path, starter: Path | None, empty: bool,
                  encoding: str) -> None:
    """Add the students of a CSV (name, email, student_id[, sis_id, section]) to a course."""
    target = _course(course_slug)
    try:
        rows = parse_roster(decode_roster(csv_file.read_bytes(), str(csv_file), encoding),
                            str(csv_file))
        with tempfile.TemporaryDirectory() as scratch:
            seed = None if empty else _starter(starter, Path(scratch) / "starter")
            imported = import_roster(get_session(), target, rows,
                                     Path(current_app.config["REPOS_DIR"]), seed)
    except RosterError as error:
        raise click.ClickException(f"roster not imported:\n{error}") from None
    kept = [i.login for i in imported if not i.created]
    if kept:
        click.echo(f"# already on the roster, unchanged: {', '.join(kept)}", err=True)
    _print_tokens([(i.login, i.name, i.token) for i in imported if i.token])


def _starter(given: Path | None, scratch: Path) -> Path:
    """The directory to seed repos with: given, configured, or generated into ``scratch``."""
    if given is not None:
        return given
    if current_app.config["STARTER_DIR"]:
        return Path(current_app.config["STARTER_DIR"])
    return generate_starter(scratch)


@main.group()
def staff() -> None:
    """TAs and instructors."""


@staff.command("add")
@click.argument("course_slug")
@click.argument("login")
@click.option("--name", required=True)
@click.option("--email")
@click.option("--role", type=click.Choice(["ta", "instructor"]), default="ta", show_default=True)
def staff_add(course_slug: str, login: str, name: str, email: str | None, role: str) -> None:
    """Give LOGIN a staff role in a course (creating the user and a token if new)."""
    session = get_session()
    target = _course(course_slug)
    user = session.scalar(select(User).where(User.login == login))
    token = None
    if user is None:
        user = User(login=login, name=name, email=email)
        session.add(user)
        session.flush()
        token = issue_token(session, user)
    if session.scalar(select(Membership).where(Membership.course_id == target.id,
                                               Membership.user_id == user.id)):
        session.rollback()
        raise click.ClickException(f"{login} already belongs to {course_slug}")
    session.add(Membership(course_id=target.id, user_id=user.id, role=Role(role)))
    session.commit()
    click.echo(f"{login} is now {role} of {course_slug}", err=True)
    if token:
        _print_tokens([(login, name, token)])


@main.group()
def token() -> None:
    """Access tokens."""


@token.command("rotate")
@click.argument("login")
def token_rotate(login: str) -> None:
    """Revoke LOGIN's tokens and print a new one."""
    session = get_session()
    user = session.scalar(select(User).where(User.login == login))
    if user is None:
        raise click.ClickException(f"no user {login!r}")
    new = issue_token(session, user)
    session.commit()
    _print_tokens([(user.login, user.name, new)])


def _add_other_parts() -> None:
    """The rubric and export commands live with their own modules."""
    from autograder.export.cli import export
    from autograder.rubric.cli import rubric
    from autograder.starter import main as starter

    main.add_command(rubric)
    main.add_command(export)
    main.add_command(starter, "starter")


_add_other_parts()
