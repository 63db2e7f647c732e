"""Which grades a rubric edit made stale: the submissions to regrade after a rubric change.

Grades are keyed by rubric version (declared version + file hash), so comparing versions
finds exactly the submissions whose module grade came from another version of the rubric.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from autograder.models import Grade, Submission


def stale_submissions(session: Session, course_id: int, module: str,
                      current_version: str) -> list[int]:
    """Ids of submissions graded for ``module`` with no grade under ``current_version``."""
    current = select(Grade.submission_id).where(Grade.module == module,
                                                Grade.rubric_version == current_version)
    query = (select(Submission.id).join(Grade, Grade.submission_id == Submission.id)
             .where(Submission.course_id == course_id, Grade.module == module,
                    Submission.id.not_in(current))
             .distinct().order_by(Submission.id))
    return list(session.scalars(query))
