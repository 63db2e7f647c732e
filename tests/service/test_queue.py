"""Grading jobs reach a real Redis broker as Celery messages; a dead broker loses nothing."""
from __future__ import annotations

import base64
import json
import subprocess

import pytest
import redis
from sqlalchemy import select

from autograder.db import get_session
from autograder.models import Submission, SubmissionStatus
from autograder.queue import GRADE_TASK, PUSH_PRIORITY
from deploy.stack import free_port
from tests.service.gitclient import commit_file, git, repo_url

# The Redis list kombu keeps the default queue's messages of the pushes' priority in.
PUSHES = f"celery\x06\x16{PUSH_PRIORITY}"


@pytest.fixture
def redis_url(redis_server):
    return redis_server.url


def _push_one(world, live_server, tmp_path, name="a") -> subprocess.CompletedProcess:
    work = tmp_path / "work"
    if not work.exists():
        git("clone", "-q", repo_url(live_server, "ml101", "alice", *world.auth("alice")),
            "work", cwd=tmp_path)
    commit_file(work, f"{name}.py", f"{name} = 1\n", name)
    return git("push", "origin", "main", cwd=work)


def _queued(app) -> list[Submission]:
    with app.app_context():
        return list(get_session().scalars(select(Submission)))


def test_a_push_sends_one_grading_task_to_redis(app, world, live_server, tmp_path, redis_url):
    app.config["BROKER_URL"] = redis_url
    pushed = _push_one(world, live_server, tmp_path)
    assert "remote: queued for grading" in pushed.stderr
    [submission] = _queued(app)
    [raw] = redis.Redis.from_url(redis_url).lrange(PUSHES, 0, -1)
    message = json.loads(raw)
    assert message["headers"]["task"] == GRADE_TASK
    args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
    assert args == [submission.id] and kwargs == {}


def test_a_dead_broker_keeps_the_submission_queued(app, world, live_server, tmp_path):
    app.config["BROKER_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    pushed = _push_one(world, live_server, tmp_path)
    assert "grading queue unreachable" in pushed.stderr
    assert "your submission is saved, and the graders send it for grading by themselves " \
           "within a minute of the queue coming back" in pushed.stderr
    [submission] = _queued(app)
    assert submission.status is SubmissionStatus.queued


def test_a_broker_that_comes_back_takes_the_next_push(app, world, live_server, tmp_path,
                                                      redis_server):
    """The API keeps one connection pool per broker: a broker down at one push and back
    at the next must not leave the pool broken."""
    redis_server.stop()
    app.config["BROKER_URL"] = redis_server.url
    assert "grading queue unreachable" in _push_one(world, live_server, tmp_path).stderr
    redis_server.start()
    assert "remote: queued for grading" in _push_one(world, live_server, tmp_path, "b").stderr
    [raw] = redis.Redis.from_url(redis_server.url).lrange(PUSHES, 0, -1)
    _, second = sorted(s.id for s in _queued(app))
    args, _, _ = json.loads(base64.b64decode(json.loads(raw)["body"]))
    assert args == [second]


def test_health_and_the_queue_see_a_live_broker(app, client, world, redis_url):
    app.config["BROKER_URL"] = redis_url
    assert client.get("/api/v1/health").json == {"status": "ok", "database": "ok",
                                                 "broker": "ok"}
    queue = client.get("/api/v1/courses/ml101/queue", auth=world.auth("prof")).json
    assert queue["broker"] == "ok"
