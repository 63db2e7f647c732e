"""Database schema: courses, people and roles, repos, submissions, results, grades, audit.

Plain SQLAlchemy 2 declarative models so the Celery worker and the git hooks use them
without a Flask app. Timestamps are stored as naive UTC.
"""
from __future__ import annotations

import enum
from datetime import datetime, timezone

from sqlalchemy import (JSON, Enum, Float, ForeignKey, Index, String, Text, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Naive UTC now: SQLite keeps no zone, so every stored time is UTC by convention."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Role(str, enum.Enum):
    student = "student"
    ta = "ta"
    instructor = "instructor"


STAFF_ROLES = (Role.ta, Role.instructor)


class SubmissionStatus(str, enum.Enum):
    queued = "queued"
    running = "running"
    graded = "graded"
    failed = "failed"            # the student's code failed to grade (counts as a result)
    infra_error = "infra_error"  # the grader could not run it: retried, never a zero
    rejected = "rejected"        # git did not move the branch to it: never graded or counted


class Outcome(str, enum.Enum):
    passed = "passed"
    failed = "failed"
    error = "error"
    timeout = "timeout"


class Visibility(str, enum.Enum):
    public = "public"
    hidden = "hidden"


def _enum(cls: type[enum.Enum]) -> Enum:
    # Stored as plain strings (no native enum type) so PostgreSQL needs no ALTER TYPE later.
    return Enum(cls, native_enum=False, length=16, validate_strings=True)


class Course(Base):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    graded_branch: Mapped[str] = mapped_column(String(100), default="main")
    config_yaml: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="course")


class CourseRubric(Base):
    """The rubric text an assignment is graded with, validated and stored at course create or
    update: workers grade exactly this, never a file that may have changed since."""
    __tablename__ = "course_rubrics"
    __table_args__ = (UniqueConstraint("course_id", "assignment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    assignment_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    version: Mapped[str] = mapped_column(String(64))
    stored_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """A person; ``login`` is the HTTP Basic user name (a student id for students)."""
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user")


class Membership(Base):
    """A user's role in one course, with the roster fields the LMS export needs."""
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("course_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(_enum(Role))
    student_number: Mapped[str | None] = mapped_column(String(100))
    sis_id: Mapped[str | None] = mapped_column(String(100))
    section: Mapped[str | None] = mapped_column(String(100))

    course: Mapped[Course] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships")


class Token(Base):
    """An access token, kept only as a SHA-256 hash; ``revoked_at`` set on rotation."""
    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class Repo(Base):
    """A student's bare repo in a course; ``path`` is relative to the repos directory."""
    __tablename__ = "repos"
    __table_args__ = (UniqueConstraint("course_id", "owner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(300), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[Course] = relationship()
    owner: Mapped[User] = relationship()


class Submission(Base):
    """One updated graded-branch head of one push."""
    __tablename__ = "submissions"
    __table_args__ = (Index("ix_submissions_course_status", "course_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    repo_id: Mapped[int] = mapped_column(ForeignKey("repos.id", ondelete="CASCADE"))
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    commit_sha: Mapped[str] = mapped_column(String(64))
    branch: Mapped[str] = mapped_column(String(200))
    pushed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    status: Mapped[SubmissionStatus] = mapped_column(_enum(SubmissionStatus),
                                                     default=SubmissionStatus.queued)
    status_detail: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # When an infra_error's next attempt is due; None when no retry is planned (given up).
    retry_at: Mapped[datetime | None]

    course: Mapped[Course] = relationship()
    repo: Mapped[Repo] = relationship()
    student: Mapped[User] = relationship()
    checks: Mapped[list[CheckResult]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="CheckResult.id")
    grades: Mapped[list[Grade]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="Grade.module")


class CheckResult(Base):
    __tablename__ = "check_results"
    __table_args__ = (UniqueConstraint("submission_id", "module", "check_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    module: Mapped[str] = mapped_column(String(64))
    check_id: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[Outcome] = mapped_column(_enum(Outcome))
    message: Mapped[str] = mapped_column(Text, default="")
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    figures: Mapped[dict] = mapped_column(JSON, default=dict)
    visibility: Mapped[Visibility] = mapped_column(_enum(Visibility), default=Visibility.public)
    log: Mapped[str] = mapped_column(Text, default="")  # capped by the worker

    submission: Mapped[Submission] = relationship(back_populates="checks")


class Grade(Base):
    """A computed grade; one per (submission, module, rubric version), so retries replace."""
    __tablename__ = "grades"
    __table_args__ = (UniqueConstraint("submission_id", "module", "rubric_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    module: Mapped[str] = mapped_column(String(64))
    points: Mapped[float] = mapped_column(Float)
    max_points: Mapped[float] = mapped_column(Float)
    rubric_version: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the results document's ``isolation`` entry (workers/isolation.py): which run was chosen
    # and, when the isolated one, the ``cause`` line that tells the student where to look
    isolation: Mapped[dict | None] = mapped_column(JSON, nullable=True)

    submission: Mapped[Submission] = relationship(back_populates="grades")


class GradeOverride(Base):
    """A staff decision that replaces a student's module grade; revoked, never deleted."""
    __tablename__ = "grade_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    module: Mapped[str] = mapped_column(String(64))
    points: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(Text)


class AuditEvent(Base):
    """Who did what, when and why: overrides, their reversal, regrade requests."""
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"),
                                           index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User] = relationship()
