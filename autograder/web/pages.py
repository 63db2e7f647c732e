"""Course overview, submissions, gradebook and one submission's detail (staff only)."""
from __future__ import annotations

from flask import current_app, render_template, request
from werkzeug.exceptions import Forbidden

from autograder.access import require_user, staff_course, visible_submission
from autograder.api.params import page_and_size, submission_filter
from autograder.api.queries import (SubmissionFilter, list_submissions, oldest_queued,
                                    status_counts, students, unfinished)
from autograder.api.serialize import submission_detail
from autograder.course.stored import course_config
from autograder.db import get_session
from autograder.gradebook import build_gradebook
from autograder.models import STAFF_ROLES, SubmissionStatus
from autograder.web import bp

RECENT = 25


@bp.get("/")
def home():
    user = require_user()
    courses = [m.course for m in user.memberships if m.role in STAFF_ROLES]
    return render_template("web/home.html", user=user, courses=courses)


@bp.get("/courses/<course_slug>/")
def course(course_slug: str):
    found = staff_course(course_slug, require_user())
    session = get_session()
    recent, total = list_submissions(session, found, SubmissionFilter(), 1, RECENT)
    counts = status_counts(session, found)
    return render_template("web/course.html", course=found, counts=counts,
                           students=students(session, found), recent=recent, total=total,
                           waiting=unfinished(counts), oldest_queued=oldest_queued(session, found))


@bp.get("/submissions/<int:submission_id>")
def submission(submission_id: int):
    found, role = visible_submission(submission_id, require_user())
    if role not in STAFF_ROLES:
        raise Forbidden("these pages are for TAs and instructors; use the API for your results")
    return render_template("web/submission.html", submission=found,
                           detail=submission_detail(found, staff=True))


@bp.get("/courses/<course_slug>/gradebook")
def gradebook(course_slug: str):
    found = staff_course(course_slug, require_user())
    return render_template("web/gradebook.html", course=found,
                           book=build_gradebook(get_session(), found))


@bp.get("/courses/<course_slug>/submissions")
def submissions(course_slug: str):
    """Every submission, filtered by student, module and status, a page at a time."""
    found = staff_course(course_slug, require_user())
    session = get_session()
    wanted = submission_filter(request.args, request.args.get("student") or None)
    page, per_page = page_and_size(request.args, current_app.config["API_PAGE_SIZE_MAX"])
    items, total = list_submissions(session, found, wanted, page, per_page)
    return render_template("web/submissions.html", course=found, items=items, total=total,
                           page=page, per_page=per_page, wanted=wanted,
                           students=students(session, found),
                           modules=[a.id for a in course_config(found).assignments],
                           statuses=[s.value for s in SubmissionStatus])
