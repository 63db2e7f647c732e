"""Regrades and overrides: they change what they should, refuse bad input, and are audited."""
from __future__ import annotations

from sqlalchemy import delete, select

from autograder.db import get_session
from autograder.models import Course, CourseRubric, GradeOverride, Submission, SubmissionStatus
from tests.service.conftest import invoke
from tests.service.graded_rows import graded_submission


def _post(client, world, login, path, body):
    return client.post(path, auth=world.auth(login), json=body)


def _audit(client, world):
    return client.get("/api/v1/courses/ml101/audit", auth=world.auth("prof")).json["items"]


def test_regrade_requeues_and_is_audited(app, client, world):
    sub = graded_submission(app, "ml101", "alice")
    response = _post(client, world, "ta1", f"/api/v1/submissions/{sub}/regrade",
                     {"reason": "flaky check"})
    assert response.status_code == 202
    assert response.json == {"submissions": [sub], "enqueued": False}  # no broker configured
    with app.app_context():
        assert get_session().get(Submission, sub).status is SubmissionStatus.queued
    [event] = _audit(client, world)
    assert (event["actor"], event["action"], event["reason"]) == ("ta1", "regrade", "flaky check")


def test_module_regrade_takes_every_submission_graded_for_it(app, client, world):
    graded = {graded_submission(app, "ml101", "alice"), graded_submission(app, "ml101", "bob")}
    graded_submission(app, "ml101", "bob", module="02_tensor")
    response = _post(client, world, "prof", "/api/v1/courses/ml101/modules/01_setup/regrade",
                     {"reason": "rubric v2"})
    assert response.status_code == 202 and set(response.json["submissions"]) == graded


def test_regrade_of_an_unknown_module_or_without_reason_is_refused(app, client, world):
    unknown = _post(client, world, "prof", "/api/v1/courses/ml101/modules/99_x/regrade",
                    {"reason": "x"})
    assert unknown.status_code == 404 and "has no module '99_x'" in unknown.json["message"]
    no_reason = _post(client, world, "prof", "/api/v1/courses/ml101/modules/01_setup/regrade",
                      {"reason": "  "})
    assert no_reason.status_code == 400 and "reason" in no_reason.json["message"]
    assert _audit(client, world) == []


def test_override_replaces_the_live_one_and_revoking_keeps_the_record(app, client, world):
    body = {"student": "alice", "module": "01_setup", "points": 8, "reason": "appeal"}
    first = _post(client, world, "ta1", "/api/v1/courses/ml101/overrides", body).json
    second = _post(client, world, "ta1", "/api/v1/courses/ml101/overrides",
                   {**body, "points": 9.5}).json
    revoked = _post(client, world, "prof", f"/api/v1/overrides/{second['id']}/revoke",
                    {"reason": "entered in error"})
    assert revoked.status_code == 200 and revoked.json["revoke_reason"] == "entered in error"
    again = _post(client, world, "prof", f"/api/v1/overrides/{second['id']}/revoke",
                  {"reason": "twice"})
    assert again.status_code == 400 and "already revoked" in again.json["message"]
    with app.app_context():
        rows = get_session().scalars(select(GradeOverride).order_by(GradeOverride.id)).all()
        assert [(r.points, r.revoke_reason) for r in rows] == [
            (8.0, "replaced by a new override"), (9.5, "entered in error")]
    assert [e["action"] for e in _audit(client, world)] == [
        "override_revoked", "override", "override"]


def test_override_input_is_validated(client, world):
    base = {"student": "alice", "module": "01_setup", "points": 5, "reason": "r"}
    cases = [({**base, "points": 11}, "points: a number from 0 to 10"),
             ({**base, "points": True}, "points: a number from 0 to 10"),
             ({**base, "student": "ta1"}, "'ta1' is not a student of ml101"),
             ({**base, "module": 3}, "module: a module id")]
    for body, message in cases:
        response = _post(client, world, "ta1", "/api/v1/courses/ml101/overrides", body)
        assert response.status_code == 400 and message in response.json["message"], body
    not_json = client.post("/api/v1/courses/ml101/overrides", auth=world.auth("ta1"),
                           data="points=5")
    assert not_json.status_code == 400 and not_json.json["message"] == "send a JSON object"


def test_submission_filters_and_pagination(app, client, world):
    ids = [graded_submission(app, "ml101", "alice") for _ in range(3)]
    bob = graded_submission(app, "ml101", "bob", module="02_tensor")

    def listed(query):
        response = client.get(f"/api/v1/courses/ml101/submissions?{query}",
                              auth=world.auth("ta1"))
        assert response.status_code == 200, response.json
        return response.json

    assert [i["id"] for i in listed("student=alice")["items"]] == ids[::-1]
    assert [i["id"] for i in listed("module=02_tensor")["items"]] == [bob]
    assert listed("status=queued")["total"] == 0
    page = listed("per_page=2&page=2")
    assert (page["total"], [i["id"] for i in page["items"]]) == (4, [ids[1], ids[0]])
    assert listed("since=2999-01-01T00:00:00%2B00:00")["total"] == 0
    for bad, message in (("status=done", "status: one of"), ("per_page=0", "per_page"),
                         ("since=yesterday", "since: not an ISO-8601")):
        response = client.get(f"/api/v1/courses/ml101/submissions?{bad}", auth=world.auth("ta1"))
        assert response.status_code == 400 and message in response.json["message"]


def test_gradebook_shows_the_grade_that_counts_and_overrides_on_top(app, client, world):
    graded_submission(app, "ml101", "alice", points=3.0)
    latest = graded_submission(app, "ml101", "alice", points=7.0)
    override = _post(client, world, "ta1", "/api/v1/courses/ml101/overrides",
                     {"student": "bob", "module": "02_tensor", "points": 9, "reason": "appeal"})

    def cells():
        book = client.get("/api/v1/courses/ml101/gradebook", auth=world.auth("ta1")).json
        assert [a["id"] for a in book["assignments"]] == ["01_setup", "02_tensor"]
        return {(r["student"], m): (c["points"], c["source"], c["submission_id"])
                for r in book["rows"] for m, c in r["cells"].items()}

    assert cells() == {("alice", "01_setup"): (7.0, "computed", latest),
                       ("alice", "02_tensor"): (None, "none", None),
                       ("bob", "01_setup"): (None, "none", None),
                       ("bob", "02_tensor"): (9.0, "override", None)}
    page = client.get("/courses/ml101/gradebook", auth=world.auth("ta1")).get_data(as_text=True)
    assert '9.00 <a class="marker override" title="override by ta1: appeal"' in page
    assert f'href="/submissions/{latest}">7.00</a>' in page
    mine = client.get("/api/v1/courses/ml101/my-grades", auth=world.auth("bob")).json
    assert mine["row"]["student"] == "bob" and mine["row"]["cells"]["02_tensor"]["points"] == 9
    _post(client, world, "ta1", f"/api/v1/overrides/{override.json['id']}/revoke",
          {"reason": "appeal withdrawn"})
    assert cells()[("bob", "02_tensor")] == (None, "none", None)


def test_grades_from_an_earlier_rubric_are_marked_in_the_gradebook_and_before_export(
        app, client, world):
    graded_submission(app, "ml101", "alice", points=7.0)    # graded with rubric version v1
    with app.app_context():
        session = get_session()
        course = session.scalar(select(Course).where(Course.slug == "ml101"))
        session.execute(delete(CourseRubric).where(CourseRubric.course_id == course.id))
        session.add(CourseRubric(course_id=course.id, assignment_id="01_setup", text="",
                                 version="v2"))
        session.commit()
    book = client.get("/api/v1/courses/ml101/gradebook", auth=world.auth("ta1")).json
    alice = next(row for row in book["rows"] if row["student"] == "alice")
    assert alice["cells"]["01_setup"]["on_old_rubric"] is True
    assert alice["cells"]["01_setup"]["rubric_version"] == "v1"
    assert alice["cells"]["02_tensor"]["on_old_rubric"] is False
    page = client.get("/courses/ml101/gradebook", auth=world.auth("ta1")).get_data(as_text=True)
    assert 'title="computed with rubric version v1; the course now grades with v2">old rubric' \
        in page
    assert 'id="old-rubric"' in page and "<li>01_setup: 1 grade</li>" in page


def test_instructors_export_the_gradebook_as_lms_csv(app, client, world):
    graded_submission(app, "ml101", "alice", points=7.0)
    response = client.get("/api/v1/courses/ml101/export?format=plain", auth=world.auth("prof"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "Alice Liddell" in response.get_data(as_text=True)
    bad = client.get("/api/v1/courses/ml101/export?format=xls", auth=world.auth("prof"))
    assert bad.status_code == 400 and "format: one of" in bad.json["message"]


def test_export_command_is_part_of_the_cli(app, runner, world):
    graded_submission(app, "ml101", "alice", points=7.0)
    result = invoke(runner, "export", "--course", "ml101", "--format", "plain")
    assert "Alice Liddell" in result.stdout
