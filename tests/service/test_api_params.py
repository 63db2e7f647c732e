"""Parameters are checked the same way everywhere: a value the API does not understand is a
JSON 400 naming it (never silently ignored), and an unknown URL under /api/ answers JSON."""
from __future__ import annotations

import pytest


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
