"""A push whose git process is killed (``kill -9``) leaves its quarantine directory, with
the whole pack, in the repo; the sweep removes such leftovers once they are stale, and
never a quarantine that may still be in use."""
from __future__ import annotations

import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from autograder.pushes import decide
from autograder.git.quarantine import PATTERN, STALE_S, sweep_quarantines
from tests.sandbox.docker_fixtures import wait_for
from tests.service.gitclient import git, repo_url


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, from /proc (no psutil needed)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


@pytest.fixture
def held_pre_receive(monkeypatch):
    """pre-receive waits (the pack is in quarantine by then) until the test lets it go."""
    reached, release = threading.Event(), threading.Event()

    def pre_receive_and_hold(*args):
        reached.set()
        release.wait(30)

    monkeypatch.setattr(decide, "pre_receive", pre_receive_and_hold)
    yield reached
    release.set()


def test_a_killed_push_leaves_a_quarantine_that_the_sweep_removes_once_stale(
        app, world, live_server, tmp_path, held_pre_receive):
    url = repo_url(live_server, "ml101", "alice", *world.auth("alice"))
    git("clone", "-q", url, "work", cwd=tmp_path)
    (tmp_path / "work" / "weights.bin").write_bytes(os.urandom(2 * 1024 * 1024))
    git("add", "weights.bin", cwd=tmp_path / "work")
    git("commit", "-q", "-m", "weights", cwd=tmp_path / "work")
    with ThreadPoolExecutor(max_workers=1) as pool:
        push = pool.submit(git, "push", "origin", "main", cwd=tmp_path / "work", check=False)
        assert held_pre_receive.wait(60)
        for pid in descendants(os.getpid()):     # git http-backend and receive-pack
            os.kill(pid, signal.SIGKILL)
        assert push.result(60).returncode != 0
    repos_dir = Path(app.config["REPOS_DIR"])
    (left,) = wait_for(lambda: list(repos_dir.glob(PATTERN)), 10, "the quarantine left")
    assert sum(f.stat().st_size for f in left.rglob("*") if f.is_file()) > 2 * 1024 * 1024
    assert sweep_quarantines(repos_dir) == []            # may still be receiving: kept
    stale = os.stat(left).st_mtime - STALE_S - 60
    for path in (left, *left.rglob("*")):
        os.utime(path, (stale, stale), follow_symlinks=False)
    assert sweep_quarantines(repos_dir) == [left]
    assert not left.exists()
    assert git(f"--git-dir={left.parent.parent}", "fsck", "--no-progress",
               cwd=tmp_path).returncode == 0       # the repo itself is intact
