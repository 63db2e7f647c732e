"""``autograder ...``: database, courses, rosters, staff and tokens (plus the rubric, export
and starter commands, which live with their own modules).

Commands run inside the app built by ``create_app``, so they read the same settings
(:mod:`autograder.settings`: ``AUTOGRADER_*`` variables, ``AUTOGRADER_CONFIG`` file) as the service.
"""
from __future__ import annotations

import importlib
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo
from sqlalchemy import select

from autograder import create_app
from autograder.course.course_file import ConfigError
from autograder.course.stored import CourseExists, create_course
from autograder.course_update import (
    UpdateRefused, mark_for_regrade, regrade_selection, staff_member, update_course)
from autograder.db import get_session, upgrade_to_head
from autograder.export.table import text, to_csv
from autograder.models import Course, Membership, Role, User
from autograder.queue import REGRADE_PRIORITY, enqueue
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
    """The tokens as CSV, written like the grade exports: no cell runs as a formula in a
    spreadsheet (a roster name may start with ``=``)."""
    click.echo("# access tokens are shown only this once; hand each to its owner", err=True)
    click.echo(to_csv([["login", "name", "token"],
                       *([text(cell) for cell in row] for row in rows)]), nl=False)


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


@course.command("update")
@click.argument("course_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", "actor", required=True, help="login of the TA or instructor doing it")
@click.option("--reason", required=True, help="why: it goes to the audit log")
@click.option("--dry-run", is_flag=True, help="check and show the changes, apply nothing")
def course_update(course_file: Path, actor: str, reason: str, dry_run: bool) -> None:
    """Apply an edited course file (deadlines, extensions, rubrics...) to its course: every
    check of `course create`, the changes shown, applied at once with an audit event."""
    try:
        change = update_course(get_session(), course_file, actor, reason, dry_run)
    except (ConfigError, UpdateRefused) as error:
        raise click.ClickException(str(error)) from None
    click.echo(change.describe())
    if dry_run:
        click.echo("dry run: nothing changed")
    elif not change.empty:
        click.echo(f"course {change.course.slug!r} updated")
    if change.rubric_versions and not dry_run:
        click.echo(f"grades stay on their rubric version until regraded: autograder regrade "
                   f"--course {change.course.slug} --by {actor} --reason ...")


@main.command("regrade")
@click.option("--course", "course_slug", required=True)
@click.option("--assignment", help="only grades of this assignment (default: every one)")
@click.option("--students", help="comma-separated logins (default: every student)")
@click.option("--by", "actor", required=True, help="login of the TA or instructor doing it")
@click.option("--reason", required=True, help="why: it goes to the audit log")
def regrade(course_slug: str, assignment: str | None, students: str | None, actor: str,
            reason: str) -> None:
    """Queue, at low priority (students' fresh pushes go first), every finished submission
    whose grade is not on the current rubric version."""
    session = get_session()
    found = _course(course_slug)
    try:
        user = staff_member(session, found, actor)
        ids = regrade_selection(session, found, assignment,
                                [s.strip() for s in (students or "").split(",") if s.strip()])
    except UpdateRefused as error:
        raise click.ClickException(str(error)) from None
    if not ids:
        click.echo("nothing to regrade: every grade is on the current rubric version")
        return
    mark_for_regrade(session, found, user, ids, reason)
    try:
        sent = enqueue(ids, current_app.config["BROKER_URL"], priority=REGRADE_PRIORITY)
        note = "" if sent else " (in the database only: no grading queue is configured)"
    except Exception as error:  # noqa: BLE001 - queued in the database: the reconciler sends
        note = (f" (grading queue unreachable, {type(error).__name__}: the workers' "
                f"reconciler sends them once it is back)")
    click.echo(f"{len(ids)} submission(s) queued for regrading at low priority{note}")


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


class _LazyGroup(click.Group):
    """Commands implemented on the worker side, imported only when invoked: ``autograder``
    never imports ``workers`` itself (the service runs without the grading stack)."""

    def __init__(self, *args, lazy: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = lazy   # command name -> "module:attribute"

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.lazy)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.lazy:
            return None
        module, attribute = self.lazy[name].split(":")
        return getattr(importlib.import_module(module), attribute)


@main.group(cls=_LazyGroup, lazy={"mutate": "workers.mutation.cli:mutate"})
def suite() -> None:
    """Checkpoint suite tools for instructors (mutation testing)."""


def _add_other_parts() -> None:
    """The rubric and export commands live with their own modules."""
    from autograder.export.cli import export
    from autograder.rubric.cli import rubric
    from autograder.starter import main as starter

    main.add_command(rubric)
    main.add_command(export)
    main.add_command(starter, "starter")


_add_other_parts()

if __name__ == "__main__":
    main()
