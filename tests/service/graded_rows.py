"""Graded submissions written straight into the database, as a worker would leave them.

The push path is tested with a real git client elsewhere; API tests only need the rows.
"""
from __future__ import annotations

from sqlalchemy import select

from autograder.db import get_session
from autograder.models import (CheckResult, Course, Grade, Outcome, Repo, Submission,
                               SubmissionStatus, User, Visibility)


def graded_submission(app, course_slug: str, login: str, points: float = 7.0,
                      module: str = "01_setup") -> int:
    with app.app_context():
        session = get_session()
        course = session.scalar(select(Course).where(Course.slug == course_slug))
        user = session.scalar(select(User).where(User.login == login))
        repo = session.scalar(select(Repo).where(Repo.course_id == course.id,
                                                 Repo.owner_id == user.id))
        submission = Submission(course_id=course.id, repo_id=repo.id, student_id=user.id,
                                commit_sha="ab" * 20, branch="main",
                                status=SubmissionStatus.graded)
        submission.checks = [
            CheckResult(module=module, check_id="setup.public_ok", outcome=Outcome.passed,
                        visibility=Visibility.public, message="fine", figures={"ratio": 1.1}),
            CheckResult(module=module, check_id="setup.hidden_secret", outcome=Outcome.failed,
                        visibility=Visibility.hidden, message="SECRET expected 42",
                        log="SECRET log"),
        ]
        submission.grades = [Grade(module=module, points=points, max_points=10.0,
                                   rubric_version="v1")]
        session.add(submission)
        session.commit()
        return submission.id
