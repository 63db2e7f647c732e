"""The pages' routes: home, a course, a submission (a student's or staff view by role), the
submissions list, the gradebook, the queue, the audit log and the export form (staff)."""
from __future__ import annotations

from flask import current_app, render_template, request

from autograder.access import course_for, require_user, staff_course, visible_submission
from autograder.api.export import export as api_export
from autograder.api.params import page_and_size, submission_filter
from autograder.api.queries import (
    SubmissionFilter, audit_log, list_submissions, oldest_queued, status_counts, students,
    unfinished, unfinished_submissions)
from autograder.course.stored import course_config
from autograder.db import get_session
from autograder.gradebook import build_gradebook
from autograder.models import STAFF_ROLES, SubmissionStatus
from autograder.queue import broker_state, queued_in_broker
from autograder.web import bp

from autograder.web.gradebook_view import gradebook_table
from autograder.web.results_view import module_results
from autograder.web.student import finals_of, my_course, now_utc, student_submission

RECENT = 25


@bp.get("/")
def home():
    user = require_user()
    return render_template("web/home.html", user=user, memberships=user.memberships,
                           staff_roles=STAFF_ROLES)


@bp.get("/courses/<course_slug>/")
def course(course_slug: str):
    user = require_user()
    found, role = course_for(course_slug, user)
    if role not in STAFF_ROLES:
        return my_course(found, user)
    session = get_session()
    recent, total = list_submissions(session, found, SubmissionFilter(), 1, RECENT)
    counts = status_counts(session, found)
    return render_template("web/course.html", course=found, counts=counts,
                           students=students(session, found), recent=recent, total=total,
                           waiting=unfinished(session, found), oldest_queued=oldest_queued(session, found))


@bp.get("/submissions/<int:submission_id>")
def submission(submission_id: int):
    found, role = visible_submission(submission_id, require_user())
    if role not in STAFF_ROLES:
        return student_submission(found)
    config = course_config(found.course)
    modules = module_results(config, found, finals_of(found.course, found.student.login),
                             staff=True, now=now_utc())
    return render_template("web/submission.html", submission=found, modules=modules)


@bp.get("/courses/<course_slug>/gradebook")
def gradebook(course_slug: str):
    found = staff_course(course_slug, require_user())
    sections = [s for s in request.args.getlist("section") if s]
    book = build_gradebook(get_session(), found, set(sections) or None)
    table = gradebook_table(book, request.args.get("sort", "name"),
                            request.args.get("order", "asc"))
    all_sections = sorted({m.section for _, m in students(get_session(), found) if m.section})
    return render_template("web/gradebook.html", course=found, table=table, config=book.course,
                           book=book, sections=all_sections, chosen=sections)


@bp.get("/courses/<course_slug>/export")
def export(course_slug: str):
    """The API's export itself, reached with the page's session: same rules, same CSV."""
    return api_export(course_slug)


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


@bp.get("/courses/<course_slug>/queue")
def queue(course_slug: str):
    """Queued (since when), running (for how long), retrying, and queued rows the broker
    holds no message for ("stuck": only the reconciler will send them again)."""
    found = staff_course(course_slug, require_user())
    broker_url = current_app.config["BROKER_URL"]
    return render_template("web/queue.html", course=found, now=now_utc().replace(tzinfo=None),
                           rows=unfinished_submissions(get_session(), found),
                           in_broker=queued_in_broker(broker_url),
                           broker=broker_state(broker_url))


@bp.get("/courses/<course_slug>/audit")
def audit(course_slug: str):
    """The audit log, optionally for one student and module (an override's history)."""
    found = staff_course(course_slug, require_user())
    student, module = request.args.get("student"), request.args.get("module")
    events = [e for e in audit_log(get_session(), found)
              if (not student or e.detail.get("student") == student)
              and (not module or e.detail.get("module") == module)]
    return render_template("web/audit.html", course=found, events=events, student=student,
                           module=module)

