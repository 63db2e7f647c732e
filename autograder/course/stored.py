"""Courses in the database: created from the course YAML, and the rules read back from it.

The YAML text is stored with the course so that every process (web, hooks, workers) reads
the same validated configuration without access to the instructor's files.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from autograder.course.course_file import (
    CourseConfig, load_course_document, parse_course)
from autograder.models import Course, CourseRubric, Membership, Role, User, utcnow
from autograder.policy import apply_late_penalty, closes_at, effective_deadline, lateness
from autograder.rubric.cli import check_rubric
from autograder.rubric.schema import LoadedRubric, load_rubric
from autograder.yaml_files import ConfigError


class CourseExists(ValueError):
    pass


@dataclass(frozen=True)
class CourseFile:
    """A course file that passed every check, with the rubric each assignment is graded by."""
    config: CourseConfig
    text: str
    rubrics: dict[str, LoadedRubric]


def validate_course_file(session: Session, path: Path, course: Course | None) -> CourseFile:
    """Every check ``course create`` and ``course update`` make, all problems reported at
    once: the schema, each rubric's full ``rubric check`` (schema, its module, every pattern
    against the suite), and that extensions and excusals name students of the course
    (``course``; None before it exists, so none yet)."""
    document, config = load_course_document(path)
    errors, rubrics = [], {}
    for assignment in config.assignments:
        rubric_path = Path(path).parent / assignment.rubric
        try:
            check_rubric(rubric_path, None, assignment.id)
            rubrics[assignment.id] = load_rubric(rubric_path)
        except ConfigError as error:
            errors += [error, *error.also]
    students = _students(session, course)
    for group in ("extensions", "excused"):
        for index, rule in enumerate(getattr(config, group)):
            if rule.student not in students:
                errors.append(document.error((group, index, "student"), (
                    f"{rule.student!r} is not a student of course {config.slug}: import the "
                    f"roster first, then add it with `autograder course update`")))
    if errors:
        raise ConfigError.collect(errors)
    return CourseFile(config, document.text, rubrics)


def _students(session: Session, course: Course | None) -> set[str]:
    if course is None:
        return set()
    return set(session.scalars(select(User.login).join(Membership).where(
        Membership.course_id == course.id, Membership.role == Role.student)))


def create_course(session: Session, path: Path) -> Course:
    """Validate the course file and its rubrics and store both; nothing on error."""
    checked = validate_course_file(session, path, None)
    config = checked.config
    if session.scalar(select(Course.id).where(Course.slug == config.slug)) is not None:
        raise CourseExists(f"{path}: course {config.slug!r} already exists")
    course = Course(slug=config.slug, title=config.title, graded_branch=config.graded_branch,
                    config_yaml=checked.text)
    session.add(course)
    session.flush()
    store_rubrics(session, course, checked.rubrics)
    session.commit()
    return course


def store_rubrics(session: Session, course: Course, rubrics: dict[str, LoadedRubric]) -> None:
    """Make ``rubrics`` the course's graded rubrics (the caller commits)."""
    stored = {r.assignment_id: r for r in session.scalars(
        select(CourseRubric).where(CourseRubric.course_id == course.id))}
    for assignment_id, row in stored.items():
        if assignment_id not in rubrics:
            session.delete(row)
    for assignment_id, loaded in rubrics.items():
        row = stored.get(assignment_id) or CourseRubric(course_id=course.id,
                                                        assignment_id=assignment_id)
        row.text, row.version, row.stored_at = loaded.document.text, loaded.version, utcnow()
        session.add(row)


def rubrics_for_grading(session: Session, course: Course,
                        legacy_dir: Path) -> tuple[CourseConfig, Path]:
    """The course configuration and a directory holding exactly the rubric texts stored in
    the database, as ``<assignment id>.yaml`` (the configuration points there).

    The directory is named by the texts' hash, so it is written once and never stale.  A
    course created before rubrics were stored grades from ``legacy_dir`` as it always did.
    """
    config = course_config(course)
    stored = session.scalars(select(CourseRubric).where(CourseRubric.course_id == course.id)
                             .order_by(CourseRubric.assignment_id)).all()
    if not stored:
        return config, legacy_dir
    digest = hashlib.sha256("\0".join(f"{r.assignment_id}\0{r.text}" for r in stored)
                            .encode()).hexdigest()[:32]
    directory = Path(tempfile.gettempdir()) / "autograder-rubrics" / digest
    if not directory.is_dir():
        directory.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(dir=directory.parent))
        for row in stored:
            (building / f"{row.assignment_id}.yaml").write_text(row.text, encoding="utf-8")
        try:
            os.rename(building, directory)
        except OSError:             # another process wrote the same texts first
            for file in building.iterdir():
                file.unlink()
            building.rmdir()
    return _pointed_at_stored(config), directory


def _pointed_at_stored(config: CourseConfig) -> CourseConfig:
    """``config`` with each assignment's rubric named ``<assignment id>.yaml``."""
    def pointed(assignments):
        return [a.model_copy(update={"rubric": f"{a.id}.yaml"}) for a in assignments]
    return config.model_copy(update={"modules": pointed(config.modules),
                                     "milestones": pointed(config.milestones)})


def course_config(course: Course) -> CourseConfig:
    return parse_course(course.config_yaml, f"course {course.slug}")


def closing_time(config: CourseConfig, student_login: str) -> datetime | None:
    """When pushes stop counting for this student: the latest closing time of any assignment
    (deadline, extensions, ``close_after_deadline``); None when the course never closes."""
    closings = [closes_at(config, effective_deadline(config, student_login, assignment))
                for assignment in config.assignments]
    return None if None in closings else max(closings)


def submissions_closed_reason(course: Course, student_login: str,
                              now_utc: datetime) -> str | None:
    """Why a push may not be graded any more, or None while it may."""
    closes = closing_time(course_config(course), student_login)
    now = now_utc.replace(tzinfo=timezone.utc) if now_utc.tzinfo is None else now_utc
    if closes is not None and now > closes:
        return f"submissions closed at {closes.isoformat()} (hard deadline passed)"
    return None


def late_notes(course: Course, student_login: str, now_utc: datetime) -> list[str]:
    """For a push at ``now_utc``: each assignment it is late for, and what that costs."""
    config = course_config(course)
    now = now_utc.replace(tzinfo=timezone.utc) if now_utc.tzinfo is None else now_utc
    policy, notes = config.late_policy, []
    for assignment in config.assignments:
        deadline = effective_deadline(config, student_login, assignment)
        closing = closes_at(config, deadline)
        late_by = lateness(policy, deadline, now)
        if late_by.total_seconds() <= 0 or (closing is not None and now > closing) \
                or config.excusal_for(student_login, assignment.id):
            continue
        if config.counts == "latest_before_deadline":
            cost = "this push does not count for it (only pushes before the deadline do)"
        else:
            kept = apply_late_penalty(policy, 100.0, 100.0, late_by)
            cost = (f"its grade from this push loses {100 - kept:g}% "
                    f"({policy.penalty_percent:g}% per {policy.per} late)")
        notes.append(f"late for {assignment.id}: the deadline was {deadline.isoformat()}; "
                     f"{cost}")
    return notes
