"""Read queries shared by the JSON API and the TA pages, so both show the same thing."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from autograder.models import (AuditEvent, CheckResult, Course, Grade, Membership, Role,
                               Submission, SubmissionStatus, User)
from autograder.queue import REGRADE_DETAIL


@dataclass(frozen=True)
class SubmissionFilter:
    student: str | None = None     # login
    module: str | None = None      # has a result or grade for this module
    status: SubmissionStatus | None = None
    since: datetime | None = None  # pushed at or after (naive UTC)
    until: datetime | None = None  # pushed before


def _filtered(course: Course, wanted: SubmissionFilter) -> Select:
    query = select(Submission).where(Submission.course_id == course.id)
    if wanted.student is not None:
        query = query.join(Submission.student).where(User.login == wanted.student)
    if wanted.module is not None:
        query = query.where(
            exists().where(CheckResult.submission_id == Submission.id,
                           CheckResult.module == wanted.module)
            | exists().where(Grade.submission_id == Submission.id, Grade.module == wanted.module))
    if wanted.status is not None:
        query = query.where(Submission.status == wanted.status)
    if wanted.since is not None:
        query = query.where(Submission.pushed_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(Submission.pushed_at < wanted.until)
    return query


def list_submissions(session: Session, course: Course, wanted: SubmissionFilter, page: int,
                     per_page: int) -> tuple[list[Submission], int]:
    """One page of submissions, newest first, and how many match in all."""
    query = _filtered(course, wanted)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    items = session.scalars(query.order_by(Submission.id.desc())
                            .offset((page - 1) * per_page).limit(per_page)).all()
    return list(items), total


def students(session: Session, course: Course) -> list[tuple[User, Membership]]:
    return list(session.execute(
        select(User, Membership).join(Membership, Membership.user_id == User.id)
        .where(Membership.course_id == course.id, Membership.role == Role.student)
        .order_by(User.login)))


def status_counts(session: Session, course: Course) -> dict[str, int]:
    rows = session.execute(select(Submission.status, func.count()).where(
        Submission.course_id == course.id).group_by(Submission.status))
    return {status.value: count for status, count in rows}


def audit_log(session: Session, course: Course, limit: int = 500) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.course_id == course.id)
                                .order_by(AuditEvent.id.desc()).limit(limit)))


UNFINISHED = (SubmissionStatus.queued, SubmissionStatus.running, SubmissionStatus.infra_error)


def unfinished(session: Session, course: Course) -> dict[str, int]:
    """The unfinished submissions by status, zeros included; the infrastructure faults split
    into ``retrying`` (a next attempt is planned) and ``given_up`` (the grader stopped
    retrying: they wait for a TA's regrade once the fault is fixed, not for time to pass)."""
    counts = status_counts(session, course)
    found = {status.value: counts.get(status.value, 0) for status in UNFINISHED}
    given_up = session.scalar(select(func.count()).where(
        Submission.course_id == course.id, Submission.status == SubmissionStatus.infra_error,
        Submission.retry_at.is_(None)))
    return found | {"retrying": found["infra_error"] - given_up, "given_up": given_up}


def running_submissions(session: Session, course: Course) -> list[Submission]:
    """At most one per worker process: a short list."""
    return list(session.scalars(select(Submission).where(
        Submission.course_id == course.id, Submission.status == SubmissionStatus.running)
        .order_by(Submission.id)))


def oldest_queued(session: Session, course: Course) -> datetime | None:
    return session.scalar(select(func.min(Submission.pushed_at)).where(
        Submission.course_id == course.id, Submission.status == SubmissionStatus.queued))


def waiting_before(session: Session, submission: Submission) -> int:
    """Submissions that will really be graded before this one (its place in the queue, which
    a push's message and the live status show): those queued or running ahead of it, except
    that bulk regrades (``REGRADE_DETAIL``, a lower priority) wait behind every fresh push,
    so a push never counts them and a regrade counts every queued push, even a newer one."""
    unfinished = Submission.status.in_([SubmissionStatus.queued, SubmissionStatus.running])
    fresh = or_(Submission.status_detail.is_(None), Submission.status_detail != REGRADE_DETAIL)
    older = and_(Submission.id < submission.id, unfinished)
    if submission.status_detail != REGRADE_DETAIL:
        ahead = and_(older, fresh)
    else:
        ahead = or_(older, and_(Submission.id != submission.id,
                                Submission.status == SubmissionStatus.queued, fresh))
    return session.scalar(select(func.count()).where(ahead))


def student_submissions(session: Session, course: Course, student: User) -> list[Submission]:
    """A student's pushes in a course, newest first."""
    return list(session.scalars(select(Submission).where(
        Submission.course_id == course.id, Submission.student_id == student.id)
        .order_by(Submission.id.desc())))


def unfinished_submissions(session: Session, course: Course) -> list[Submission]:
    """Queued, running and retrying submissions, oldest first: the queue page's rows."""
    return list(session.scalars(select(Submission).where(
        Submission.course_id == course.id, Submission.status.in_(UNFINISHED))
        .order_by(Submission.id)))
