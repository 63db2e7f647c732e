"""The pages through Flask's client: the login form and CSRF, a student's own pages, the TA
gradebook, forms and queue. (tests/web drives the same pages in a real browser.)"""
from __future__ import annotations

import re
from datetime import datetime, timezone

from sqlalchemy import select

from autograder import create_app
from autograder.course.course_file import parse_course
from autograder.db import get_session
from autograder.hidden_checks import hidden_released
from autograder.models import (AuditEvent, CheckResult, Course, Outcome, Submission,
                               SubmissionStatus, Visibility)
from autograder.queue import REGRADE_DETAIL, enqueue
from autograder.rubric.engine import RubricGrade
from autograder.web.text import first_line, group_by_message
from tests.service.conftest import course_yaml, invoke
from tests.service.graded_rows import graded_submission
from tests.service.test_queue import redis_url  # noqa: F401  (a real redis-server)
from workers import grading
from workers.isolation import grade_isolated
from workers.package_files import tar_of

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client, path: str, auth=None) -> str:
    return _CSRF.search(client.get(path, auth=auth).get_data(as_text=True))[1]


def log_in(client, login: str, token: str, next_path: str = ""):
    return client.post(f"/login?next={next_path}", data={
        "login": login, "token": token, "csrf_token": csrf(client, "/login")})


def test_login_form_opens_a_session_for_the_pages_only(app, client, world):
    sub = graded_submission(app, "ml101", "alice")
    refused = client.post("/login", data={"login": "alice", "token": world.tokens["alice"]})
    assert refused.status_code == 400 and "CSRF" in refused.get_data(as_text=True)
    wrong = log_in(client, "alice", "not-the-token")
    assert wrong.status_code == 401 and "do not match" in wrong.get_data(as_text=True)
    answer = log_in(client, "alice", world.tokens["alice"], f"/submissions/{sub}")
    assert answer.status_code == 302 and answer.headers["Location"] == f"/submissions/{sub}"
    assert client.get(f"/submissions/{sub}").status_code == 200
    assert client.get("/api/v1/me").status_code == 401     # the API takes HTTP Basic only
    assert client.post("/logout", data={"csrf_token": csrf(client, "/")}).status_code == 302
    assert client.get(f"/submissions/{sub}").status_code == 302


def test_login_does_not_redirect_off_site(client, world):
    answer = log_in(client, "bob", world.tokens["bob"], "//evil.example/")
    assert answer.headers["Location"] == "/"


def test_a_rotated_token_ends_the_session(app, client, world, runner):
    log_in(client, "bob", world.tokens["bob"])
    assert client.get("/courses/ml101/").status_code == 200
    invoke(runner, "token", "rotate", "bob")
    assert client.get("/courses/ml101/").status_code == 302


def _checks(app, submission_id: int, checks: list[CheckResult]) -> None:
    with app.app_context():
        session = get_session()
        for check in checks:
            check.submission_id = submission_id
        session.add_all(checks)
        session.commit()


def test_student_sees_public_checks_grouped_and_hidden_ones_as_a_count(app, client, world):
    sub = graded_submission(app, "ml101", "alice", points=7.0)
    hostile = "\x1b[31mImportError\u202e: <script>x()</script>"
    _checks(app, sub, [CheckResult(module="01_setup", check_id=f"setup.same_{i}",
                                   description=f"does thing {i}", outcome=Outcome.error,
                                   visibility=Visibility.public, message=hostile,
                                   log="Traceback (most recent call last):\n  line 1")
                       for i in range(3)])
    text = client.get(f"/submissions/{sub}", auth=world.auth("alice")).get_data(as_text=True)
    assert "7.00 / 10 points" in text                   # the course's scale
    assert "The same error in 3 checks" in text and text.count("ImportError") == 1
    assert "<script>x()" not in text and "&lt;script&gt;x()" in text
    assert "\x1b" not in text and "\u202e" not in text
    assert "Traceback (most recent call last):\n  line 1</pre></details>" in text
    assert "Hidden checks: 0 of 1 passed." in text
    assert "SECRET" not in text and "setup.hidden_secret" not in text
    assert "This submission counts." in text
    summary = text[text.index('<table id="summary">'):text.index("</table>")]
    assert '<a href="#module-01_setup">' in summary
    assert '<td class="num failed">1 of 5</td>' in summary      # public 1/4, hidden 0/1
    assert "This push</td><td class=\"num\">7.00 / 10</td>" in summary


def test_my_course_shows_what_counts_and_every_push(app, client, world):
    first = graded_submission(app, "ml101", "bob", points=4.0)
    latest = graded_submission(app, "ml101", "bob", points=9.0)
    with app.app_context():
        session = get_session()
        session.get(Submission, latest).status = SubmissionStatus.queued
        session.commit()
    text = client.get("/courses/ml101/", auth=world.auth("bob")).get_data(as_text=True)
    row = text[text.index('id="assignment-01_setup"'):text.index('id="assignment-02_tensor"')]
    assert "9.00 / 10" in row and f"submission {latest}" in row
    assert f'data-url="/submissions/{latest}/status"' in text and 'data-finished="no"' in text
    assert f'href="/submissions/{first}"' in text
    status = client.get(f"/submissions/{latest}/status", auth=world.auth("bob")).get_json()
    assert status["status"] == "queued" and status["finished"] is False
    assert client.get(f"/submissions/{latest}/status",
                      auth=world.auth("alice")).status_code == 404


def test_override_form_is_audited_and_marked_in_the_gradebook(app, client, world):
    sub = graded_submission(app, "ml101", "alice", points=7.0)
    auth = world.auth("ta1")
    form = {"module": "01_setup", "points": "9.5", "reason": "re-marked <b>by hand</b>"}
    assert client.post(f"/submissions/{sub}/override", data=form, auth=auth).status_code == 400
    token = csrf(client, f"/submissions/{sub}", auth)
    done = client.post(f"/submissions/{sub}/override", data={**form, "csrf_token": token},
                       auth=auth)
    assert done.status_code == 302
    too_many = client.post(f"/submissions/{sub}/override", auth=auth, data={
        **form, "points": "11", "csrf_token": token})
    assert too_many.status_code == 400 and "points: a number from 0 to 10" in \
        too_many.get_data(as_text=True)
    with app.app_context():
        [event] = get_session().scalars(select(AuditEvent)).all()
        assert (event.action, event.reason, event.actor.login) == \
            ("override", "re-marked <b>by hand</b>", "ta1")
    book = client.get("/courses/ml101/gradebook", auth=auth).get_data(as_text=True)
    assert 'title="override by ta1: re-marked &lt;b&gt;by hand&lt;/b&gt;"' in book
    assert 'href="/courses/ml101/audit?student=alice&amp;module=01_setup"' in book
    page = client.get(f"/submissions/{sub}", auth=auth).get_data(as_text=True)
    assert "does not count: an override by ta1 (9.5 points)" in page


def test_regrade_form_queues_the_submission_with_an_audit_entry(app, client, world):
    sub = graded_submission(app, "ml101", "alice")
    auth = world.auth("prof")
    token = csrf(client, f"/submissions/{sub}", auth)
    client.post(f"/submissions/{sub}/regrade", data={"reason": "worker fixed",
                                                     "csrf_token": token}, auth=auth)
    with app.app_context():
        session = get_session()
        assert session.get(Submission, sub).status is SubmissionStatus.queued
        [event] = session.scalars(select(AuditEvent)).all()
        assert (event.action, event.reason) == ("regrade", "worker fixed")
    student = client.post(f"/submissions/{sub}/regrade", auth=world.auth("alice"),
                          data={"reason": "please", "csrf_token": token})
    assert student.status_code in (400, 403)


def test_gradebook_sorts_filters_and_totals(app, client, world):
    graded_submission(app, "ml101", "alice", points=7.0)
    graded_submission(app, "ml101", "bob", points=3.0, module="02_tensor")
    auth = world.auth("ta1")

    def order(query: str) -> list[str]:
        text = client.get(f"/courses/ml101/gradebook?{query}", auth=auth).get_data(as_text=True)
        return re.findall(r'<tr data-login="([^"]+)">', text)
    assert order("sort=01_setup&order=desc") == ["alice", "bob"]
    assert order("sort=02_tensor&order=desc") == ["bob", "alice"]
    assert order("sort=name&order=desc") == ["bob", "alice"]
    assert order("section=B") == ["bob"]
    text = client.get("/courses/ml101/gradebook", auth=auth).get_data(as_text=True)
    assert "7.00 / 20 (35.0%)" in text and text.count('<svg class="histogram"') == 2
    assert client.get("/courses/ml101/gradebook?sort=nope", auth=auth).status_code == 400
    export = client.get("/courses/ml101/export?format=plain&section=B", auth=world.auth("prof"))
    assert export.status_code == 200 and "bob" in export.get_data(as_text=True) \
        and "alice" not in export.get_data(as_text=True)
    assert client.get("/courses/ml101/export?format=plain", auth=auth).status_code == 403


def test_queue_page_flags_a_queued_row_the_broker_has_no_message_for(
        app, world, redis_url):  # noqa: F811
    app = create_app({**app.config, "BROKER_URL": redis_url})
    client = app.test_client()
    sent, lost = (graded_submission(app, "ml101", login) for login in ("alice", "bob"))
    with app.app_context():
        session = get_session()
        for sub in (sent, lost):
            session.get(Submission, sub).status = SubmissionStatus.queued
        session.commit()
    assert enqueue([sent], redis_url)
    text = client.get("/courses/ml101/queue", auth=world.auth("ta1")).get_data(as_text=True)
    row = {sub: text[text.index(f'id="queue-{sub}"'):].split("</tr>")[0] for sub in (sent, lost)}
    assert "stuck" not in row[sent] and ">stuck</strong>" in row[lost]


def test_hidden_checks_are_released_after_the_deadline_plus_the_course_option():
    text = course_yaml("ml101", deadline="2026-01-10T00:00:00+00:00")
    late = datetime(2026, 1, 12, 1, tzinfo=timezone.utc)
    never = parse_course(text)
    released = parse_course(text + "release_hidden_checks: 2d\n"
                            "extensions: [{student: bob, assignment: 01_setup, extra: 1d}]\n")
    assignment = released.assignment("01_setup")
    assert not hidden_released(never, "alice", assignment, late)
    assert hidden_released(released, "alice", assignment, late)
    assert not hidden_released(released, "bob", assignment, late)   # his deadline is later


def test_errors_group_by_their_headline_whatever_their_tracebacks():
    def trace(line: int) -> str:
        return (f"your code raised NotImplementedError: report\n  File \"<check>\", line {line}"
                "\n  File \"tinytorch/core/setup.py\", line 74")
    checks = [CheckResult(check_id=f"c{i}", message=m) for i, m in
              enumerate([trace(2), trace(9), "other", trace(4), ""])]
    [(message, items)] = group_by_message(checks)
    assert message == trace(2) and [c.check_id for c in items] == ["c0", "c1", "c3"]
    assert first_line(trace(2)) == ("your code raised NotImplementedError: report", trace(2),
                                    "Traceback")
    assert first_line("one line") == ("one line", "", "")


def test_a_milestones_training_curve_and_figures_are_shown(app, client, world):
    sub = graded_submission(app, "ml101", "alice")
    png = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJ"
           "RU5ErkJggg==")
    _checks(app, sub, [
        CheckResult(module="01_setup", check_id="xor.accuracy", outcome=Outcome.passed,
                    figures={"accuracy": 1.0, "curve": [{"epoch": 1, "loss": 0.5}],
                             "curve_png": png}),
        CheckResult(module="01_setup", check_id="xor.forged", outcome=Outcome.passed,
                    figures={"curve_png": '" onerror="alert(1)'})])
    text = client.get(f"/submissions/{sub}", auth=world.auth("alice")).get_data(as_text=True)
    assert text.count("<img ") == 1 and f'src="data:image/png;base64,{png}"' in text
    assert "accuracy: 1.0" in text and "curve:" not in text and "onerror" not in text


def _course_yaml(app, slug: str, text: str) -> None:
    with app.app_context():
        session = get_session()
        session.scalar(select(Course).where(Course.slug == slug)).config_yaml = text
        session.commit()


def test_api_releases_hidden_checks_when_the_pages_do(app, client, world):
    _course_yaml(app, "ml101", course_yaml("ml101", deadline="2026-01-10T00:00:00+00:00",
                                           close_after="3650d")
                 + "release_hidden_checks: 1d\n"
                 "extensions: [{student: bob, assignment: 01_setup, extra: 36500d}]\n")
    for login, released in (("alice", True), ("bob", False)):
        sub = graded_submission(app, "ml101", login)
        detail = client.get(f"/api/v1/submissions/{sub}", auth=world.auth(login)).get_json()
        page = client.get(f"/submissions/{sub}", auth=world.auth(login)).get_data(as_text=True)
        shown = {c["id"] for c in detail["checks"]}
        assert ("setup.hidden_secret" in shown) is released
        assert ("SECRET expected 42" in page) is released
        assert ("Hidden checks: 0 of 1 passed." in page) is not released
        assert detail["hidden_checks"] == {"01_setup": {"passed": 0, "total": 1}}


def test_the_isolation_cause_reaches_the_pages_and_the_api(app, client, world):
    """A module whose suite fails on the whole package but passes with the reference's other
    modules: the worker stores the cause, and student, TA and API read the same line."""
    sub = graded_submission(app, "ml101", "alice", module="01_setup")

    def run(tar, own):
        outcome = "failed" if own else "passed"
        return {"module": "02_tensor", "infrastructure_error": None, "checks": [
            {"id": "tensor.add", "outcome": outcome, "message": "wrong sum" if own else ""}]}

    def score(results):
        points = 10.0 * (results["checks"][0]["outcome"] == "passed")
        return RubricGrade("02_tensor", points, 10.0, "v1", (), (), ())

    graded = grade_isolated("02_tensor", "best_of", tar_of({}), run, score, ["01_setup"])
    with app.app_context():
        session = get_session()
        running = session.get(Submission, sub)
        running.status, running.attempts = SubmissionStatus.running, 1
        session.commit()
        assert grading._store(session, sub, 1, [graded])
    line = ("This module passes with the reference's code for the modules before 02_tensor: "
            "look at 01_setup first.")
    for login in ("alice", "ta1"):
        page = client.get(f"/submissions/{sub}", auth=world.auth(login)).get_data(as_text=True)
        assert f'<p class="isolation-hint" id="isolation-02_tensor">{line}' in \
            page.replace("&#39;", "'")
        assert 'id="isolation-01_setup"' not in page
    detail = client.get(f"/api/v1/submissions/{sub}", auth=world.auth("alice")).get_json()
    grades = {g["module"]: g for g in detail["grades"]}
    assert grades["02_tensor"]["isolation_hint"] == line
    assert grades["02_tensor"]["isolation"]["chosen"] == "isolated"
    assert grades["02_tensor"]["isolation"]["own_points"] == 0.0
    assert grades["01_setup"]["isolation"] is None and grades["01_setup"]["isolation_hint"] is None


def test_queue_position_puts_bulk_regrades_behind_every_push(app, client, world):
    """The live status and the push message count the same queue: a regrade waits behind a
    newer push, and a push is never counted behind a queued regrade."""
    regrade, running, push = (graded_submission(app, "ml101", "alice") for _ in range(3))
    with app.app_context():
        session = get_session()
        for sub, status, detail in ((regrade, SubmissionStatus.queued, REGRADE_DETAIL),
                                    (running, SubmissionStatus.running, "grading on w:1"),
                                    (push, SubmissionStatus.queued, None)):
            row = session.get(Submission, sub)
            row.status, row.status_detail = status, detail
        session.commit()

    def ahead(sub: int) -> int:
        return client.get(f"/submissions/{sub}/status",
                          auth=world.auth("alice")).get_json()["waiting_before"]
    assert ahead(push) == 1          # the older running one; not the older regrade
    assert ahead(regrade) == 1       # the newer queued push goes first
