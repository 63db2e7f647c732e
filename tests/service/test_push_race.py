"""Two clones of one repo push at once through real git: both pass pre-receive (each
records a submission), then git lets only one move the branch.  The loser's submission must
never be graded or counted: it is marked ``rejected`` and its push is not told "recorded"."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from autograder.pushes import decide
from autograder.db import get_session
from autograder.models import Submission, SubmissionStatus
from tests.service.gitclient import commit_file, git, repo_url


@pytest.fixture
def both_pass_pre_receive(monkeypatch):
    """Hold each pre-receive, after it committed its submission, until the other has too:
    the race where both pushes are recorded and git then refuses one ref update."""
    barrier = threading.Barrier(2, timeout=30)
    real = decide.pre_receive

    def pre_receive_then_wait(*args):
        real(*args)
        barrier.wait()

    monkeypatch.setattr(decide, "pre_receive", pre_receive_then_wait)


def test_the_push_that_loses_the_race_is_rejected_never_graded(
        app, world, live_server, tmp_path, both_pass_pre_receive):
    url = repo_url(live_server, "ml101", "alice", *world.auth("alice"))
    clones = {}
    for name in ("laptop", "desktop"):
        git("clone", "-q", url, name, cwd=tmp_path)
        clones[name] = commit_file(tmp_path / name, f"{name}.py", f"where = {name!r}\n", name)
    with ThreadPoolExecutor(max_workers=2) as pool:
        pushed = dict(zip(clones, pool.map(
            lambda name: git("push", "origin", "main", cwd=tmp_path / name, check=False),
            clones)))
    winners = [name for name, result in pushed.items() if result.returncode == 0]
    assert len(winners) == 1, {n: r.stderr for n, r in pushed.items()}
    (winner,) = winners
    (loser,) = set(clones) - {winner}
    assert "[remote rejected]" in pushed[loser].stderr
    assert "recorded" not in pushed[loser].stderr
    assert "recorded for commit" in pushed[winner].stderr
    head = git("ls-remote", "origin", "refs/heads/main", cwd=tmp_path / winner).stdout.split()[0]
    assert head == clones[winner]
    with app.app_context():
        status = {s.commit_sha: s for s in get_session().scalars(select(Submission))}
    assert status[clones[winner]].status == SubmissionStatus.queued
    assert status[clones[loser]].status == SubmissionStatus.rejected
    assert "another push updated it first" in status[clones[loser]].status_detail
