"""The TA pages: who may see them, what they show, and that they escape what students wrote."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from autograder.db import get_session
from autograder.models import Submission, SubmissionStatus, User
from tests.service.graded_rows import graded_submission


def test_staff_see_the_course_overview_with_recent_submissions(app, client, world):
    sub = graded_submission(app, "ml101", "alice")
    page = client.get("/courses/ml101/", auth=world.auth("ta1"))
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "2 students, 1 submissions" in text and f'href="/submissions/{sub}"' in text
    assert "Grading queue: 0 queued,\n0 running, 0 waiting for a retry." in text


def test_the_overview_says_how_long_the_oldest_push_has_waited(app, client, world):
    sub = graded_submission(app, "ml101", "bob")
    with app.app_context():
        session = get_session()
        waiting = session.get(Submission, sub)
        waiting.status, waiting.pushed_at = SubmissionStatus.queued, datetime(2026, 12, 1, 23, 58)
        session.commit()
    text = client.get("/courses/ml101/", auth=world.auth("ta1")).get_data(as_text=True)
    assert "Grading queue: 1 queued (oldest pushed 2026-12-01 23:58 UTC),\n0 running" in text


def test_the_overview_tells_a_retry_from_a_submission_the_grader_gave_up_on(app, client, world):
    retrying, given_up = (graded_submission(app, "ml101", login) for login in ("alice", "bob"))
    with app.app_context():
        session = get_session()
        for sub, retry_at in ((retrying, datetime(2026, 12, 2, 0, 5)), (given_up, None)):
            row = session.get(Submission, sub)
            row.status, row.retry_at = SubmissionStatus.infra_error, retry_at
        session.commit()
    text = client.get("/courses/ml101/", auth=world.auth("ta1")).get_data(as_text=True)
    assert "1 waiting for a retry" in text and "1 given up</strong></a> after repeated" in text
    queue = client.get("/courses/ml101/queue", auth=world.auth("ta1")).get_data(as_text=True)
    assert queue.count("given up: regrade it") == 1 and queue.count(">retrying") == 1


def test_staff_see_every_check_of_a_submission(app, client, world):
    sub = graded_submission(app, "ml101", "alice")
    text = client.get(f"/submissions/{sub}", auth=world.auth("prof")).get_data(as_text=True)
    assert "setup.hidden_secret" in text and "SECRET log" in text and "7.00" in text


@pytest.mark.parametrize("login, course_code, sub_code", [
    (None, 302, 302), ("alice", 200, 200), ("bob", 200, 404), ("ta2", 404, 404),
    ("ta1", 200, 200)])
def test_who_may_open_which_page(app, client, world, login, course_code, sub_code):
    """Students get their own pages, staff every page of their course; others a 404; no
    login a redirect to the login form."""
    sub = graded_submission(app, "ml101", "alice")
    auth = world.auth(login) if login else None
    seen = {path: client.get(path, auth=auth).status_code
            for path in ("/courses/ml101/", f"/submissions/{sub}")}
    assert seen == {"/courses/ml101/": course_code, f"/submissions/{sub}": sub_code}
    if login is None:
        assert client.get("/").headers["Location"].startswith("/login?next=")
    if login in ("alice", "bob"):
        gradebook = client.get("/courses/ml101/gradebook", auth=auth)
        assert gradebook.status_code == 403


def test_student_names_are_escaped(app, client, world):
    with app.app_context():
        session = get_session()
        session.scalar(select(User).where(User.login == "alice")).name = "<script>x()</script>"
        session.commit()
    graded_submission(app, "ml101", "alice")
    text = client.get("/courses/ml101/", auth=world.auth("ta1")).get_data(as_text=True)
    assert "<script>x()" not in text and "&lt;script&gt;x()" in text


def test_submissions_page_filters_and_pages(app, client, world):
    alice = [graded_submission(app, "ml101", "alice") for _ in range(3)]
    bob = graded_submission(app, "ml101", "bob", module="02_tensor")
    auth = world.auth("ta1")
    page = client.get("/courses/ml101/submissions?student=alice&module=&status=&per_page=2",
                      auth=auth).get_data(as_text=True)
    assert "3 submissions, page 1." in page
    assert f'href="/submissions/{alice[2]}"' in page and f'href="/submissions/{bob}"' not in page
    assert 'rel="next"' in page and "page=2" in page and 'rel="prev"' not in page
    by_module = client.get("/courses/ml101/submissions?module=02_tensor", auth=auth)
    assert f'href="/submissions/{bob}"' in by_module.get_data(as_text=True)
    bad = client.get("/courses/ml101/submissions?status=done", auth=auth)
    assert bad.status_code == 400 and "status: one of" in bad.get_data(as_text=True)
