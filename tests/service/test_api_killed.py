"""kill -9 of the whole API (gunicorn and the git it runs) in the middle of a push, through
real git: once the reconciler has run, every commit the branch moved to is sent for grading
exactly once (lost = 0) and no commit off the branch is (graded-but-never-on-the-branch = 0).
"""
from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

from sqlalchemy import select

from autograder.db import get_session
from autograder.git.repos import on_branch
from autograder.models import Submission, SubmissionStatus
from tests.service.gitclient import commit_file, git, repo_url
from tests.service.test_gunicorn import serve
from workers import reconciler
from autograder.settings import Settings


def _rows(app) -> list[Submission]:
    with app.app_context():
        rows = list(get_session().scalars(select(Submission).order_by(Submission.id)))
        get_session().expunge_all()
        return rows


def _push_and_kill_when_recorded(app, server, work: Path) -> None:
    """Push, and kill -9 the API the moment pre-receive has committed the submission."""
    before = len(_rows(app))
    push = threading.Thread(target=git, args=("push", "origin", "main"),
                            kwargs={"cwd": work, "check": False})
    push.start()
    while len(_rows(app)) == before and push.is_alive():
        pass
    os.killpg(server.pid, signal.SIGKILL)
    server.wait(10)
    push.join(60)


def test_the_api_killed_mid_push_loses_nothing_and_grades_nothing_off_the_branch(
        app, world, tmp_path):
    server, base = serve(app)
    url = repo_url(base, "ml101", "alice", *world.auth("alice"))
    git("clone", "-q", url, "work", cwd=tmp_path)
    work = tmp_path / "work"
    commit_file(work, "a.py", "a = 1\n", "a")
    _push_and_kill_when_recorded(app, server, work)
    server, base = serve(app)                      # the API comes back
    try:
        git("remote", "set-url", "origin", repo_url(base, "ml101", "alice",
                                                    *world.auth("alice")), cwd=work)
        git("pull", "-q", "--no-rebase", "origin", "main", cwd=work)
        commit_file(work, "b.py", "b = 2\n", "b")
        git("push", "-q", "origin", "main", cwd=work)
    finally:
        server.terminate()
        server.wait(30)
    settings = Settings(database_url=app.config["DATABASE_URL"],
                        repos_dir=app.config["REPOS_DIR"], queued_stale_s=0)
    sent = []
    with app.app_context():
        reconciler.reconcile(app.extensions["autograder.sessions"], settings, sent.append,
                             in_broker=set())
    repo = Path(app.config["REPOS_DIR"]) / "ml101" / "alice.git"
    rows = _rows(app)
    assert len(rows) == 2
    landed = {row.id for row in rows if on_branch(repo, row.commit_sha, "main")}
    assert sorted(sent) == sorted(landed)                       # each landed commit, once
    assert all(row.status == SubmissionStatus.rejected for row in rows if row.id not in landed)
    head = git(f"--git-dir={repo}", "rev-parse", "main", cwd=tmp_path).stdout.strip()
    assert head in {row.commit_sha for row in rows if row.id in landed}
