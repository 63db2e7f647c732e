"""Who may read a hidden check in full, one rule for the pages and the API: staff always; a
student once the course's ``release_hidden_checks`` has passed since their deadline (with
extensions) for that assignment.  Until then a student sees only how many passed."""
from __future__ import annotations

from datetime import datetime

from autograder.course.course_file import Assignment, CourseConfig
from autograder.models import CheckResult, Submission, Visibility
from autograder.policy import effective_deadline


def hidden_released(course: CourseConfig, login: str, assignment: Assignment,
                    now: datetime) -> bool:
    """Whether the student may now read this assignment's hidden checks in full."""
    if course.release_hidden_checks is None:
        return False
    return now >= effective_deadline(course, login, assignment) + course.release_hidden_checks


def withheld_checks(course: CourseConfig, submission: Submission, staff: bool,
                    now: datetime) -> list[CheckResult]:
    """The submission's hidden checks this reader may not read in full yet."""
    if staff:
        return []
    login = submission.student.login
    released = {a.id for a in course.assignments if hidden_released(course, login, a, now)}
    return [c for c in submission.checks
            if c.visibility is Visibility.hidden and c.module not in released]
