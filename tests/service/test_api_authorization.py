"""Every endpoint x {anonymous, student A, student B, TA here, TA elsewhere, instructor}.

Student A is alice (owner of the seeded submission), B is bob; ta2 teaches another course.
Expected codes: 401 without login, 404 for what a user may not see at all, 403 for a
course member without the role.
"""
from __future__ import annotations

import pytest

from tests.service.graded_rows import graded_submission

ROLES = ("anonymous", "alice", "bob", "ta1", "ta2", "prof")
REASON = {"reason": "rubric fixed"}


def _call(client, world, role, method, path, body=None):
    auth = None if role == "anonymous" else world.auth(role)
    return client.open(path, method=method, auth=auth, json=body)


def _expect(*codes):
    return dict(zip(ROLES, codes))


STAFF_ONLY = _expect(401, 403, 403, 200, 404, 200)

ENDPOINTS = {
    "me": ("GET", "/api/v1/me", None, _expect(401, 200, 200, 200, 200, 200)),
    "list": ("GET", "/api/v1/courses/ml101/submissions", None,
             _expect(401, 200, 200, 200, 404, 200)),
    "detail": ("GET", "/api/v1/submissions/{sub}", None, _expect(401, 200, 404, 200, 404, 200)),
    "regrade": ("POST", "/api/v1/submissions/{sub}/regrade", REASON,
                _expect(401, 403, 404, 202, 404, 202)),
    "regrade_module": ("POST", "/api/v1/courses/ml101/modules/01_setup/regrade", REASON,
                       _expect(401, 403, 403, 202, 404, 202)),
    "gradebook": ("GET", "/api/v1/courses/ml101/gradebook", None, STAFF_ONLY),
    "my_grades": ("GET", "/api/v1/courses/ml101/my-grades", None,
                  _expect(401, 200, 200, 403, 404, 403)),
    "audit": ("GET", "/api/v1/courses/ml101/audit", None, STAFF_ONLY),
    "queue": ("GET", "/api/v1/courses/ml101/queue", None, STAFF_ONLY),
    "health": ("GET", "/api/v1/health", None, _expect(200, 200, 200, 200, 200, 200)),
    "export": ("GET", "/api/v1/courses/ml101/export", None, _expect(401, 403, 403, 403, 404, 200)),
    "overrides": ("GET", "/api/v1/courses/ml101/overrides", None, STAFF_ONLY),
    "override": ("POST", "/api/v1/courses/ml101/overrides",
                 {"student": "alice", "module": "01_setup", "points": 9, "reason": "appeal"},
                 _expect(401, 403, 403, 201, 404, 201)),
    "revoke": ("POST", "/api/v1/overrides/{override}/revoke", {"reason": "mistake"},
               _expect(401, 403, 403, 200, 404, 200)),
}


def _fresh_override(client, world) -> int:
    response = _call(client, world, "prof", "POST", "/api/v1/courses/ml101/overrides",
                     {"student": "alice", "module": "01_setup", "points": 5, "reason": "x"})
    assert response.status_code == 201
    return response.json["id"]


@pytest.mark.parametrize("name", ENDPOINTS)
def test_authorization_matrix(app, client, world, name):
    method, template, body, expected = ENDPOINTS[name]
    sub = graded_submission(app, "ml101", "alice")
    seen = {}
    for role in ROLES:
        override = _fresh_override(client, world) if "{override}" in template else None
        path = template.format(sub=sub, override=override)
        seen[role] = _call(client, world, role, method, path, body).status_code
    assert seen == expected


def test_students_list_only_their_own_submissions(app, client, world):
    mine = graded_submission(app, "ml101", "alice")
    graded_submission(app, "ml101", "bob")
    for query in ("", "?student=bob"):
        items = _call(client, world, "alice", "GET",
                      f"/api/v1/courses/ml101/submissions{query}").json["items"]
        assert [i["id"] for i in items] == [mine]
    staff_view = _call(client, world, "ta1", "GET", "/api/v1/courses/ml101/submissions").json
    assert staff_view["total"] == 2


def test_students_never_see_hidden_check_internals(app, client, world):
    sub = graded_submission(app, "ml101", "alice")
    student_view = _call(client, world, "alice", "GET", f"/api/v1/submissions/{sub}")
    assert "SECRET" not in student_view.get_data(as_text=True)
    assert "hidden_secret" not in student_view.get_data(as_text=True)
    assert student_view.json["hidden_checks"] == {"01_setup": {"passed": 0, "total": 1}}
    assert [c["id"] for c in student_view.json["checks"]] == ["setup.public_ok"]
    staff_view = _call(client, world, "ta1", "GET", f"/api/v1/submissions/{sub}").json
    assert {c["id"] for c in staff_view["checks"]} == {"setup.public_ok", "setup.hidden_secret"}


def test_anonymous_requests_are_asked_for_basic_auth(client, world):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert response.json["error"] == "Unauthorized"


def test_spec_is_served_as_yaml_and_json(client):
    assert client.get("/api/v1/openapi.yaml").mimetype == "application/yaml"
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.") and "/submissions/{id}" in spec["paths"]


def test_ids_beyond_the_database_range_are_not_found(client, world):
    huge = 2**63
    for method, path in (("GET", f"/api/v1/submissions/{huge}"),
                         ("POST", f"/api/v1/overrides/{huge}/revoke")):
        response = _call(client, world, "prof", method, path, {"reason": "x"})
        assert response.status_code == 404 and response.is_json
