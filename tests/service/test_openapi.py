"""The served OpenAPI spec against the app itself, with schemathesis: every response of every
operation (generated inputs, as an instructor and as a student) matches what the spec says."""
from __future__ import annotations

import base64

import pytest
from hypothesis import HealthCheck, given, settings

from tests.service.graded_rows import graded_submission

# The checker, not the thing tested: skip (with the reason shown) where it is not installed.
schemathesis = pytest.importorskip("schemathesis", reason="pip install schemathesis (dev tool)")
# Excluded: a request can match the schema and still name a student or module the course does
# not have, or more points than the module is worth; the API answers 400 with the reason.
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402


def _basic(world, login: str) -> dict[str, str]:
    raw = ":".join(world.auth(login)).encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def test_api_matches_its_spec(app, world):
    graded_submission(app, "ml101", "alice")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 14

    for operation in operations:
        @settings(max_examples=10, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def conforms(case):
            for login in ("prof", "alice"):
                case.call_and_validate(headers=_basic(world, login),
                                       excluded_checks=[positive_data_acceptance])

        conforms()
