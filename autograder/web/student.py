"""A student's pages: "my course" and one submission, plus the small JSON status the page
polls while a push is graded (the only part of the pages that needs JavaScript)."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import jsonify, render_template

from autograder.access import require_user, visible_submission
from autograder.api.queries import student_submissions, waiting_before
from autograder.api.serialize import timestamp
from autograder.course.stored import course_config
from autograder.db import get_session
from autograder.gradebook import build_gradebook
from autograder.models import Course, Submission, SubmissionStatus, User
from autograder.policy import FinalGrade, effective_deadline
from autograder.web import bp
from autograder.web.results_view import module_results, submission_total
from autograder.web.text import student_text

FINISHED = (SubmissionStatus.graded, SubmissionStatus.failed)


def finals_of(course: Course, login: str) -> dict[str, FinalGrade]:
    """The student's gradebook row (what counts, under the course policy) by assignment."""
    book = build_gradebook(get_session(), course)
    row = next((r for r in book.rows if r.student.login == login), None)
    return {} if row is None else {g.assignment_id: g for g in row.grades}


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def my_course(course: Course, user: User):
    config = course_config(course)
    pushes = student_submissions(get_session(), course, user)
    finals = finals_of(course, user.login)
    rows = [(a, effective_deadline(config, user.login, a), config.extensions_for(user.login, a.id),
             finals.get(a.id)) for a in config.assignments]
    latest = pushes[0] if pushes else None
    return render_template("web/my_course.html", course=course, config=config, rows=rows,
                           pushes=pushes, latest=latest, live=_live(latest))


def student_submission(submission: Submission):
    config = course_config(submission.course)
    modules = module_results(config, submission, finals_of(submission.course,
                                                           submission.student.login),
                             staff=False, now=now_utc())
    return render_template("web/student_submission.html", submission=submission,
                           modules=modules, total_points=submission_total(modules),
                           live=_live(submission))


def _live(submission: Submission | None) -> dict | None:
    if submission is None:
        return None
    return {"status": submission.status.value, "finished": submission.status in FINISHED,
            "waiting_before": None if submission.status in FINISHED
            else waiting_before(get_session(), submission),
            # A graded row's detail is the worker's summary on the rubrics' scale: the page
            # shows the course's points instead.
            "detail": "" if submission.status is SubmissionStatus.graded
            else student_text(submission.status_detail),
            "started_at": timestamp(submission.started_at)}


@bp.get("/submissions/<int:submission_id>/status")
def submission_status(submission_id: int):
    """Polled by the page while grading: status, place in the queue, finished or not."""
    submission, _ = visible_submission(submission_id, require_user())
    return jsonify(id=submission.id, **_live(submission))
