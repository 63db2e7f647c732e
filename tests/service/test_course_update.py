"""``autograder course update`` (diff, --dry-run, atomic, audited) and ``autograder regrade``
(only grades on an old rubric version, at low priority behind students' pushes)."""
from __future__ import annotations

import celery
from sqlalchemy import func, select

from autograder.cli import main
from autograder.db import get_session
from autograder.models import (AuditEvent, Course, CourseRubric, Grade, Submission,
                               SubmissionStatus, User)
from autograder.queue import REGRADE_PRIORITY, enqueue
from tests.service.conftest import invoke
from tests.service.gitclient import commit_file, git, repo_url
from tests.service.test_queue import redis_url  # noqa: F401 - a real redis-server
from autograder.queue import _submission_of


def _course(app) -> Course:
    with app.app_context():
        course = get_session().scalar(select(Course).where(Course.slug == "ml101"))
        get_session().expunge(course)
        return course


def _versions(app) -> dict[str, str]:
    with app.app_context():
        return {r.assignment_id: r.version for r in get_session().scalars(select(CourseRubric))
                if r.course_id == _course(app).id}


def _update(runner, course_file, *extra):
    return runner.invoke(main, ["course", "update", str(course_file), "--by", "prof",
                                "--reason", "storm closed campus", *extra])


def test_an_update_shows_its_diff_dry_runs_applies_at_once_and_is_audited(
        app, runner, world, tmp_path):
    course_file = tmp_path / "ml101" / "course.yaml"
    before = _course(app).config_yaml
    course_file.write_text(before.replace("2099-01-29", "2099-02-05"))
    dry = _update(runner, course_file, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "-  - {id: 01_setup" in dry.output and "2099-02-05" in dry.output
    assert "dry run: nothing changed" in dry.output
    assert _course(app).config_yaml == before
    course_file.write_text(course_file.read_text()
                           + "extensions:\n  - {student: nobody, extra: 2d}\n")
    refused = _update(runner, course_file)
    assert refused.exit_code == 1
    assert "extensions[0].student: 'nobody' is not a student of course ml101" in refused.output
    assert _course(app).config_yaml == before                        # nothing applied
    course_file.write_text(course_file.read_text().replace("nobody", "alice"))
    assert _update(runner, course_file, "--by", "alice").exit_code == 1   # not staff
    applied = _update(runner, course_file)
    assert applied.exit_code == 0 and "course 'ml101' updated" in applied.output
    assert "2099-02-05" in _course(app).config_yaml and "alice" in _course(app).config_yaml
    with app.app_context():
        (event,) = get_session().scalars(select(AuditEvent).where(
            AuditEvent.action == "course_update")).all()
        assert (event.actor.login, event.reason) == ("prof", "storm closed campus")
        assert event.detail == {"config_changed": True, "rubric_versions": {}}


def _graded(app, login: str, module: str, version: str) -> int:
    with app.app_context():
        session = get_session()
        user = session.scalar(select(User).where(User.login == login))
        course = session.scalar(select(Course).where(Course.slug == "ml101"))
        submission = Submission(course_id=course.id, repo_id=1, student_id=user.id,
                                commit_sha="a" * 40, branch="main",
                                status=SubmissionStatus.graded)
        session.add(submission)
        session.flush()
        session.add(Grade(submission_id=submission.id, module=module, points=5,
                          max_points=10, rubric_version=version))
        session.commit()
        return submission.id


def test_a_rubric_update_regrades_only_grades_on_the_old_version(app, runner, world,
                                                                 tmp_path):
    old = _versions(app)
    alice, bob = (_graded(app, login, "02_tensor", old["02_tensor"]) for login in ("alice",
                                                                                   "bob"))
    rubric = tmp_path / "ml101" / "02_tensor.yaml"
    rubric.write_text(rubric.read_text() + "# clarified wording\n")
    updated = _update(runner, tmp_path / "ml101" / "course.yaml")
    assert updated.exit_code == 0, updated.output
    new = _versions(app)["02_tensor"]
    assert new != old["02_tensor"] and _versions(app)["01_setup"] == old["01_setup"]
    assert f"rubric of 02_tensor: {old['02_tensor']} -> {new}" in updated.output
    regraded = invoke(runner, "regrade", "--course", "ml101", "--assignment", "02_tensor",
                      "--students", "alice", "--by", "ta1", "--reason", "rubric fix")
    assert "1 submission(s) queued for regrading at low priority" in regraded.output
    with app.app_context():
        session = get_session()
        assert session.get(Submission, alice).status == SubmissionStatus.queued
        assert session.get(Submission, bob).status == SubmissionStatus.graded
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "regrade_update")) == 1
    unknown = runner.invoke(main, ["regrade", "--course", "ml101", "--students", "zed",
                                   "--by", "ta1", "--reason", "x"])
    assert unknown.exit_code == 1 and "not students of course ml101: zed" in unknown.output


def test_the_reconciler_then_a_fresh_push_are_delivered_before_queued_regrades(
        redis_url):  # noqa: F811
    assert enqueue([1, 2], redis_url, priority=REGRADE_PRIORITY)
    assert enqueue([3], redis_url)
    app = celery.Celery(broker=redis_url, set_as_current=False)
    app.send_task("workers.tasks.reconcile")             # what beat sends, default priority
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        delivered = [channel._get("celery") for _ in range(4)]
    assert delivered[0]["headers"]["task"] == "workers.tasks.reconcile"
    assert [_submission_of(message) for message in delivered[1:]] == [3, 1, 2]


def test_queued_regrades_are_not_counted_as_waiting_before_a_push(app, runner, world,
                                                                  live_server, tmp_path):
    old = _versions(app)["02_tensor"]
    for login in ("alice", "bob"):
        _graded(app, login, "02_tensor", old)
    rubric = tmp_path / "ml101" / "02_tensor.yaml"
    rubric.write_text(rubric.read_text() + "# clarified wording\n")
    assert _update(runner, tmp_path / "ml101" / "course.yaml").exit_code == 0
    invoke(runner, "regrade", "--course", "ml101", "--by", "prof", "--reason", "rubric fix")
    work = tmp_path / "work"
    git("clone", "-q", repo_url(live_server, "ml101", "alice", *world.auth("alice")), "work",
        cwd=tmp_path)
    commit_file(work, "a.py", "a = 1\n", "a")
    pushed = git("push", "origin", "main", cwd=work)
    assert "(0 waiting before it)" in pushed.stderr
