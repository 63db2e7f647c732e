"""The same code on PostgreSQL: migrations, a real push through the hooks, the API.

Runs against a throwaway cluster started from the machine's PostgreSQL binaries; skipped
(with the reason) where they or the psycopg driver are missing.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile

import pytest

from autograder import create_app
from autograder.db import make_engine, upgrade_to_head
from tests.service.gitclient import commit_file, git, repo_url
from tests.service.graded_rows import graded_submission
from tests.service.test_schema_and_config import schema_differences

pytest.importorskip("psycopg", reason="pip install 'psycopg[binary]' to test PostgreSQL")


def _as_postgres_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="module")
def postgres_url():
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not binaries:
        pytest.skip("no PostgreSQL server binaries (apt-get install postgresql)")
    bin_dir = binaries[-1]
    root = tempfile.mkdtemp(prefix="autograder-pg-")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data = os.path.join(root, "data")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    subprocess.run(_as_postgres_user([f"{bin_dir}/initdb", "-D", data, "-U", "autograder",
                                      "--auth", "trust"]), check=True, capture_output=True)
    subprocess.run(_as_postgres_user([
        f"{bin_dir}/pg_ctl", "-D", data, "-w", "-l", os.path.join(root, "log"), "-o",
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off", "start"]),
        check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://autograder@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres_user([f"{bin_dir}/pg_ctl", "-D", data, "-m", "immediate",
                                          "stop"]), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def app(tmp_path, postgres_url):
    """Overrides the SQLite app: a fresh schema on PostgreSQL for each test."""
    engine = make_engine(postgres_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()
    upgrade_to_head(postgres_url)
    yield create_app({"TESTING": True, "DATABASE_URL": postgres_url,
                      "REPOS_DIR": str(tmp_path / "repos"), "BROKER_URL": None})


def test_push_and_results_on_postgres(app, client, world, live_server, tmp_path):
    url = repo_url(live_server, "ml101", "alice", *world.auth("alice"))
    git("clone", "-q", url, "work", cwd=tmp_path)
    sha = commit_file(tmp_path / "work", "a.py", "a = 1\n", "a")
    assert "remote: submission 1 recorded" in git("push", "origin", "main",
                                                  cwd=tmp_path / "work").stderr
    listed = client.get("/api/v1/courses/ml101/submissions", auth=world.auth("ta1")).json
    assert [item["commit"] for item in listed["items"]] == [sha]


def test_gradebook_and_overrides_on_postgres(app, client, world):
    graded = graded_submission(app, "ml101", "alice", points=6.0)
    created = client.post("/api/v1/courses/ml101/overrides", auth=world.auth("prof"), json={
        "student": "bob", "module": "01_setup", "points": 4, "reason": "oral exam"})
    assert created.status_code == 201
    book = client.get("/api/v1/courses/ml101/gradebook", auth=world.auth("ta1")).json
    cells = {r["student"]: r["cells"]["01_setup"] for r in book["rows"]}
    assert (cells["alice"]["points"], cells["alice"]["submission_id"]) == (6.0, graded)
    assert (cells["bob"]["points"], cells["bob"]["source"]) == (4.0, "override")
    detail = client.get(f"/api/v1/submissions/{graded}", auth=world.auth("ta1")).json
    assert detail["checks"][0]["figures"] == {"ratio": 1.1}   # JSON column round-trips


def test_migrations_match_the_models_on_postgres(app, postgres_url):
    assert schema_differences(postgres_url) == []
