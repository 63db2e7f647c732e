"""The deployment shape: the app under gunicorn (as in production) takes a real git push."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from deploy.stack import free_port
from tests.service.gitclient import commit_file, git, repo_url


def serve(app) -> tuple[subprocess.Popen, str]:
    """The app under gunicorn, as deployed, in a process group of its own (so a test can
    kill -9 all of it, git http-backend included); returns (process, base URL)."""
    if shutil.which("gunicorn") is None:
        pytest.skip("gunicorn is not installed (it is in the grader extra)")
    port = free_port()
    env = {**os.environ, "AUTOGRADER_DATABASE_URL": app.config["DATABASE_URL"],
           "AUTOGRADER_REPOS_DIR": app.config["REPOS_DIR"]}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "1",
                               "--threads", "4", "--bind", f"127.0.0.1:{port}",
                               "autograder:create_app()"], env=env, stderr=subprocess.PIPE,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=2)
            return server, base
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail(f"gunicorn did not start: {server.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)


@pytest.fixture
def gunicorn_server(app, world):
    server, base = serve(app)
    yield base
    server.terminate()
    server.wait(timeout=30)


def test_push_through_gunicorn(client, world, gunicorn_server, tmp_path):
    url = repo_url(gunicorn_server, "ml101", "alice", *world.auth("alice"))
    git("clone", "-q", url, "work", cwd=tmp_path)
    (tmp_path / "work" / "big.bin").write_bytes(os.urandom(2 * 1024 * 1024))  # chunked body
    git("add", "big.bin", cwd=tmp_path / "work")
    sha = commit_file(tmp_path / "work", "a.py", "a = 1\n", "a")
    pushed = git("push", "origin", "main", cwd=tmp_path / "work")
    assert "remote: submission 1 recorded" in pushed.stderr
    listed = client.get("/api/v1/courses/ml101/submissions", auth=world.auth("ta1")).json
    assert [item["commit"] for item in listed["items"]] == [sha]
