"""Roster import from CSV: validate every row first, then add all students or none.

Each new student gets a user (login = student id), a membership, a bare repo seeded with
the starter and an access token, which is returned here and never stored in clear.
"""
from __future__ import annotations

import csv
import io
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from autograder.git.repos import create_bare_repo, repo_relpath
from autograder.models import Course, Membership, Repo, Role, User
from autograder.tokens import issue_token

REQUIRED_COLUMNS = ("name", "email", "student_id")
OPTIONAL_COLUMNS = ("sis_id", "section")
# The student id becomes the git user name and part of the repo path.
LOGIN_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class RosterError(ValueError):
    """The roster cannot be imported; the message lists every problem found."""


@dataclass(frozen=True)
class RosterRow:
    line: int
    name: str
    email: str
    student_id: str
    sis_id: str | None
    section: str | None


@dataclass(frozen=True)
class Imported:
    login: str
    name: str
    token: str | None   # None: the person already had a token (kept unchanged)
    created: bool       # False: already on this course's roster, left as it was


def _column_key(header: str) -> str:
    return re.sub(r"[\s-]+", "_", header.strip().lower())


def decode_roster(data: bytes, source: str, encoding: str = "utf-8-sig") -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise RosterError(f"{source}:{line}: not valid {encoding} (byte {error.start}); "
                          f"save the file as UTF-8 or pass --encoding") from None


def parse_roster(text: str, source: str) -> list[RosterRow]:
    """Rows of a roster CSV; RosterError naming file, line and column for every problem."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise RosterError(f"{source}: empty file; expected a header with "
                          f"{', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}")
    keys = [_column_key(h) for h in header]
    problems = [f"{source}:1: column {k!r} appears more than once"
                for k in sorted({k for k in keys if keys.count(k) > 1})]
    missing = [c for c in REQUIRED_COLUMNS if c not in keys]
    if missing:
        problems.append(f"{source}:1: missing column(s) {', '.join(missing)}")
    if problems:
        raise RosterError("\n".join(problems))
    rows, seen = [], {}
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(keys):
            problems.append(f"{source}:{line}: {len(values)} fields, header has {len(keys)}")
            continue
        record = {k: v.strip() for k, v in zip(keys, values)}
        for column in REQUIRED_COLUMNS:
            if not record[column]:
                problems.append(f"{source}:{line}: empty {column}")
        if record["student_id"] and not LOGIN_PATTERN.fullmatch(record["student_id"]):
            problems.append(f"{source}:{line}: student_id {record['student_id']!r} may hold "
                            f"only letters, digits, '.', '_' and '-'")
        for column in ("student_id", "email"):
            value = record[column].lower()
            if value and (column, value) in seen:
                problems.append(f"{source}:{line}: duplicate {column} {record[column]!r} "
                                f"(first on line {seen[column, value]})")
            seen.setdefault((column, value), line)
        rows.append(RosterRow(line, record["name"], record["email"], record["student_id"],
                              record.get("sis_id") or None, record.get("section") or None))
    if problems:
        raise RosterError("\n".join(problems))
    return rows


def import_roster(session: Session, course: Course, rows: list[RosterRow], repos_dir: Path,
                  starter_dir: Path | None) -> list[Imported]:
    """Add every row's student to ``course``, all in one transaction (repos included)."""
    made_repos: list[Path] = []
    try:
        results = [_add_student(session, course, row, repos_dir, starter_dir, made_repos)
                   for row in rows]
        session.commit()
    except BaseException:
        session.rollback()
        for path in made_repos:
            shutil.rmtree(path, ignore_errors=True)
        raise
    return results


def _add_student(session: Session, course: Course, row: RosterRow, repos_dir: Path,
                 starter_dir: Path | None, made_repos: list[Path]) -> Imported:
    user = session.scalar(select(User).where(User.login == row.student_id))
    if user is not None and user.email and user.email.lower() != row.email.lower():
        raise RosterError(f"line {row.line}: student_id {row.student_id!r} already belongs to "
                          f"{user.email}, not {row.email}")
    token = None
    if user is None:
        user = User(login=row.student_id, name=row.name, email=row.email)
        session.add(user)
        session.flush()
        token = issue_token(session, user)
    membership = session.scalar(select(Membership).where(
        Membership.course_id == course.id, Membership.user_id == user.id))
    if membership is not None:
        return Imported(user.login, user.name, token, created=False)
    session.add(Membership(course_id=course.id, user_id=user.id, role=Role.student,
                           student_number=row.student_id, sis_id=row.sis_id,
                           section=row.section))
    relpath = repo_relpath(course.slug, user.login)
    session.add(Repo(course_id=course.id, owner_id=user.id, path=relpath))
    session.flush()
    try:
        create_bare_repo(repos_dir / relpath, course.graded_branch, starter_dir)
    except (OSError, RuntimeError) as error:
        raise RosterError(f"line {row.line}: cannot create the repo of "
                          f"{row.student_id!r}: {error}") from error
    made_repos.append(repos_dir / relpath)
    return Imported(user.login, user.name, token, created=True)
