"""Parameters are checked the same way everywhere: a value the API does not understand is a
JSON 400 naming it (never silently ignored), and an unknown URL under /api/ answers JSON.
And what the API shows a student: never the cause of an infrastructure error."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from autograder.api.serialize import INFRA_ERROR_FOR_STUDENTS
from autograder.db import get_session
from autograder.models import Submission, SubmissionStatus
from tests.service.graded_rows import graded_submission


@pytest.mark.parametrize("value", ["1", "yes", "True"])
def test_a_flag_takes_true_or_false_only(client, world, value):
    response = client.get(f"/api/v1/courses/ml101/export?percent={value}",
                          auth=world.auth("prof"))
    assert response.status_code == 400
    assert response.json["message"] == f"percent: true or false, got {value!r}"


def test_percent_true_and_false_both_work(client, world):
    for value in ("true", "false"):
        response = client.get(f"/api/v1/courses/ml101/export?percent={value}",
                              auth=world.auth("prof"))
        assert response.status_code == 200, response.json


def test_an_export_of_a_section_nobody_is_in_is_refused_naming_the_sections(client, world):
    response = client.get("/api/v1/courses/ml101/export?section=Z&section=A",
                          auth=world.auth("prof"))
    assert response.status_code == 400
    assert response.json["message"] == "section: no student of ml101 is in Z; sections: A, B"
    only_a = client.get("/api/v1/courses/ml101/export?section=A&format=plain",
                        auth=world.auth("prof"))
    assert only_a.status_code == 200 and b"alice" in only_a.data and b"bob" not in only_a.data


def test_a_non_integer_id_is_a_json_404_and_pages_keep_html(client, world):
    response = client.get("/api/v1/submissions/abc", auth=world.auth("alice"))
    assert response.status_code == 404 and response.is_json
    assert response.json["error"] == "Not Found"
    wrong_method = client.delete("/api/v1/submissions/1", auth=world.auth("alice"))
    assert wrong_method.status_code == 405 and wrong_method.is_json
    page = client.get("/no/such/page")
    assert page.status_code == 404 and not page.is_json


def test_students_never_read_the_cause_of_an_infrastructure_error(app, client, world):
    submission_id = graded_submission(app, "ml101", "alice")
    cause = "repository /srv/autograder/repos/ml101/alice.git is missing"
    with app.app_context():
        row = get_session().scalar(select(Submission).where(Submission.id == submission_id))
        row.status, row.status_detail = SubmissionStatus.infra_error, cause
        get_session().commit()
    for path in (f"/api/v1/submissions/{submission_id}", "/api/v1/courses/ml101/submissions"):
        seen_by = {login: client.get(path, auth=world.auth(login)).json
                   for login in ("alice", "ta1")}
        details = {login: (body.get("items") or [body])[0]["status_detail"]
                   for login, body in seen_by.items()}
        assert details == {"alice": INFRA_ERROR_FOR_STUDENTS, "ta1": cause}
