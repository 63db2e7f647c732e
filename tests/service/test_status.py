"""The health probe and the course's grading queue: what an operator's load balancer and a TA
at a deadline read to tell a long queue from a stuck one."""
from __future__ import annotations

from datetime import datetime, timedelta

from autograder import create_app
from autograder.db import get_session
from autograder.models import Submission, SubmissionStatus
from deploy.stack import free_port
from tests.service.graded_rows import graded_submission


def test_health_needs_no_login_and_says_what_is_up(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "broker": "not configured"}


def test_an_unreachable_broker_degrades_but_does_not_fail_health(app, client):
    app.config["BROKER_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json["status"] == "degraded" and response.json["database"] == "ok"
    assert response.json["broker"].startswith("unreachable (")


def test_an_unusable_database_fails_health(tmp_path):
    app = create_app({"TESTING": True, "REPOS_DIR": str(tmp_path / "repos"),
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'no-such-dir' / 'db.sqlite3'}"})
    response = app.test_client().get("/api/v1/health")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["database"] == "unavailable (OperationalError)"


def _set(app, submission_id, status, pushed_at, retry_at=None):
    with app.app_context():
        session = get_session()
        submission = session.get(Submission, submission_id)
        submission.status, submission.pushed_at = status, pushed_at
        submission.retry_at = retry_at
        session.commit()


def test_the_queue_counts_unfinished_work_and_names_what_runs(app, client, world):
    now = datetime(2026, 11, 24, 12, 0, 0)
    waiting_long, waiting, running, retrying, given_up, _graded = (
        graded_submission(app, "ml101", login) for login in ("alice", "bob", "alice", "bob",
                                                             "alice", "bob"))
    _set(app, waiting_long, SubmissionStatus.queued, now - timedelta(minutes=9))
    _set(app, waiting, SubmissionStatus.queued, now - timedelta(minutes=2))
    _set(app, running, SubmissionStatus.running, now - timedelta(minutes=5))
    _set(app, retrying, SubmissionStatus.infra_error, now - timedelta(minutes=7),
         retry_at=now + timedelta(minutes=1))
    _set(app, given_up, SubmissionStatus.infra_error, now - timedelta(minutes=30))
    response = client.get("/api/v1/courses/ml101/queue", auth=world.auth("ta1"))
    assert response.status_code == 200
    body = response.json
    assert body["counts"] == {"queued": 2, "running": 1, "infra_error": 2, "retrying": 1,
                              "given_up": 1}
    assert body["oldest_queued_at"] == "2026-11-24T11:51:00Z"
    assert [s["id"] for s in body["running"]] == [running]
    assert body["broker"] == "not configured"
