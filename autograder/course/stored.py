"""Courses in the database: created from the course YAML, and the rules read back from it.

The YAML text is stored with the course so that every process (web, hooks, workers) reads
the same validated configuration without access to the instructor's files.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from autograder.course.course_file import CourseConfig, load_course, parse_course
from autograder.models import Course
from autograder.policy import closes_at, effective_deadline


class CourseExists(ValueError):
    pass


def create_course(session: Session, path: Path) -> Course:
    """Validate the course file (and its rubric files) and store it; nothing on error."""
    config = load_course(path)
    if session.scalar(select(Course.id).where(Course.slug == config.slug)) is not None:
        raise CourseExists(f"{path}: course {config.slug!r} already exists")
    course = Course(slug=config.slug, title=config.title, graded_branch=config.graded_branch,
                    config_yaml=Path(path).read_text(encoding="utf-8"))
    session.add(course)
    session.commit()
    return course


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
