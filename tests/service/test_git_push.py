"""A real git client against the app on loopback: clone, push, rules, submissions in the DB."""
from __future__ import annotations

import os
import re
import tracemalloc
from datetime import datetime, timedelta, timezone
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select, text
from sqlalchemy.orm import selectinload

from autograder.cli import main
from autograder.db import get_session
from autograder.models import Course, Submission, SubmissionStatus
from tests.service.conftest import tokens_from
from tests.service.gitclient import commit_file, git, repo_url


def _submissions(app) -> list[Submission]:
    with app.app_context():
        return list(get_session().scalars(select(Submission).order_by(Submission.id)))


def test_clone_commit_push_records_a_submission_visible_in_the_api(app, world, live_server,
                                                                   tmp_path, client):
    url = repo_url(live_server, "ml101", "alice", *world.auth("alice"))
    git("clone", "-q", url, "work", cwd=tmp_path)
    work = tmp_path / "work"
    assert (work / "tinytorch" / "__init__.py").exists()  # seeded with the starter
    sha = commit_file(work, "tinytorch/tensor.py", "class Tensor: ...\n", "tensor")
    pushed = git("push", "origin", "main", cwd=work)
    [submission] = _submissions(app)
    assert submission.commit_sha == sha and submission.status is SubmissionStatus.queued
    assert f"remote: submission {submission.id} recorded for commit {sha[:12]} " \
           f"(0 waiting before it)" in pushed.stderr
    assert re.search(rf"results: {live_server}/submissions/{submission.id}\s", pushed.stderr)
    assert client.get(f"/submissions/{submission.id}", auth=world.auth("alice")).status_code \
        == 200   # the link opens the student's own results page
    response = client.get(f"/api/v1/submissions/{submission.id}", auth=world.auth("alice"))
    assert response.status_code == 200 and response.json["commit"] == sha


def _clone(world, live_server, tmp_path, owner="alice", login="alice", name="work", check=True):
    url = repo_url(live_server, "ml101", owner, *world.auth(login))
    result = git("clone", "-q", url, name, cwd=tmp_path, check=check)
    return tmp_path / name, result


def test_a_student_cannot_push_to_another_students_repo(app, world, live_server, tmp_path):
    work, _ = _clone(world, live_server, tmp_path)
    commit_file(work, "x.py", "x = 1\n", "x")
    bob_url = repo_url(live_server, "ml101", "alice", *world.auth("bob"))
    refused = git("push", bob_url, "main", cwd=work, check=False)
    assert refused.returncode != 0
    assert "you can push only to your own repo: /git/ml101/bob.git" in refused.stderr
    assert _submissions(app) == []


def test_wrong_token_is_refused(world, live_server, tmp_path):
    url = repo_url(live_server, "ml101", "alice", "alice", "not-the-token")
    refused = git("clone", "-q", url, "work", cwd=tmp_path, check=False)
    assert refused.returncode != 0 and "Authentication failed" in refused.stderr


def test_staff_read_every_repo_of_their_course_and_nobody_else_does(world, live_server,
                                                                    tmp_path):
    for login in ("ta1", "prof"):
        work, _ = _clone(world, live_server, tmp_path, login=login, name=f"as-{login}")
        assert (work / "README.md").exists()
    for login in ("bob", "ta2"):
        _, refused = _clone(world, live_server, tmp_path, login=login, name=f"as-{login}",
                            check=False)
        assert refused.returncode != 0 and "not found" in refused.stderr.lower()


def test_staff_cannot_push_to_a_students_repo(app, world, live_server, tmp_path):
    work, _ = _clone(world, live_server, tmp_path, login="ta1")
    commit_file(work, "x.py", "x = 1\n", "x")
    refused = git("push", "origin", "main", cwd=work, check=False)
    assert refused.returncode != 0
    assert "you are on the staff of ml101 (ta): staff clone and fetch students' repos but " \
           "never push to them" in refused.stderr
    assert "own repo" not in refused.stderr      # ta1 has no repo to be pointed to
    assert _submissions(app) == []


def test_force_push_that_rewrites_graded_history_is_refused(app, world, live_server, tmp_path):
    work, _ = _clone(world, live_server, tmp_path)
    graded = commit_file(work, "a.py", "a = 1\n", "first")
    git("push", "-q", "origin", "main", cwd=work)
    git("reset", "-q", "--hard", "HEAD~1", cwd=work)
    commit_file(work, "b.py", "b = 1\n", "rewritten")
    refused = git("push", "--force", "origin", "main", cwd=work, check=False)
    assert refused.returncode != 0
    assert "force-push refused, it would rewrite graded history" in refused.stderr
    remote_head = git("ls-remote", "origin", "refs/heads/main", cwd=work).stdout.split()[0]
    assert remote_head == graded
    assert [s.commit_sha for s in _submissions(app)] == [graded]


def test_deleting_the_graded_branch_is_refused(world, live_server, tmp_path):
    work, _ = _clone(world, live_server, tmp_path)
    refused = git("push", "origin", ":main", cwd=work, check=False)
    assert refused.returncode != 0 and "graded branch cannot be deleted" in refused.stderr


def test_other_branches_are_kept_but_not_graded(app, world, live_server, tmp_path):
    work, _ = _clone(world, live_server, tmp_path)
    git("checkout", "-q", "-b", "experiment", cwd=work)
    sha = commit_file(work, "e.py", "e = 1\n", "experiment")
    pushed = git("push", "origin", "experiment", cwd=work)
    assert "branch 'experiment' is kept but not graded (the graded branch is 'main')" in \
        pushed.stderr
    assert git("ls-remote", "origin", "experiment", cwd=work).stdout.startswith(sha)
    odd = git("push", "origin", "HEAD:refs/odd/place", cwd=work, check=False)
    assert odd.returncode != 0 and "refs/odd/place: only branches and tags can be pushed" in \
        odd.stderr
    assert _submissions(app) == []


def test_push_from_an_empty_repo_is_a_clear_client_error(app, world, live_server, tmp_path):
    empty = tmp_path / "empty"
    git("init", "-q", "-b", "main", str(empty), cwd=tmp_path)
    url = repo_url(live_server, "ml101", "alice", *world.auth("alice"))
    refused = git("push", url, "main", cwd=empty, check=False)
    assert refused.returncode != 0 and "src refspec main does not match any" in refused.stderr
    assert _submissions(app) == []


def test_a_push_over_the_size_cap_is_refused_and_records_nothing(app, world, live_server,
                                                                  tmp_path):
    app.config["MAX_PUSH_BYTES"] = 256 * 1024
    work, _ = _clone(world, live_server, tmp_path)
    (work / "blob.bin").write_bytes(os.urandom(3 * 1024 * 1024))  # incompressible: > cap
    git("add", "blob.bin", cwd=work)
    git("commit", "-q", "-m", "huge", cwd=work)
    refused = git("push", "origin", "main", cwd=work, check=False)
    assert refused.returncode != 0
    assert "pack exceeds maximum allowed size" in refused.stderr
    assert "remote: this course server takes pushes of up to 256 KiB: keep datasets and " \
           "large files out of the repo" in refused.stderr
    assert _submissions(app) == []
    heads = git("ls-remote", "origin", "refs/heads/main", cwd=work).stdout
    assert heads.split()[0] != git("rev-parse", "HEAD", cwd=work).stdout.strip()


def test_a_push_after_the_hard_deadline_is_refused(app, world, live_server, tmp_path):
    with app.app_context():
        session = get_session()
        course = session.scalar(select(Course).where(Course.slug == "ml101"))
        course.config_yaml = course.config_yaml.replace("2099-01-29", "2001-01-29")
        session.commit()
    work, _ = _clone(world, live_server, tmp_path)
    commit_file(work, "late.py", "late = True\n", "late")
    refused = git("push", "origin", "main", cwd=work, check=False)
    assert refused.returncode != 0
    assert "submissions closed at 2001-02-05T23:59:00+00:00" in refused.stderr
    assert _submissions(app) == []


def test_a_late_push_says_which_assignments_are_late_and_what_it_costs(app, world,
                                                                      live_server, tmp_path):
    yesterday = (datetime.now(timezone.utc) - timedelta(hours=30)).isoformat(timespec="seconds")
    with app.app_context():
        session = get_session()
        course = session.scalar(select(Course).where(Course.slug == "ml101"))
        course.config_yaml = course.config_yaml.replace("2099-01-29T23:59:00+00:00", yesterday)
        session.commit()
    work, _ = _clone(world, live_server, tmp_path)
    commit_file(work, "late.py", "late = True\n", "late")
    pushed = git("push", "origin", "main", cwd=work)
    for module in ("01_setup", "02_tensor"):
        assert f"remote: late for {module}: the deadline was {yesterday}; its grade from this " \
               f"push loses 20% (10% per day late)" in pushed.stderr


def _server_peak_bytes(*git_args: str, cwd) -> int:
    """Peak Python memory while git talks to the server (which runs in this process)."""
    tracemalloc.start()
    try:
        git(*git_args, cwd=cwd)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_large_push_streams_through_without_being_held_in_memory(app, world, live_server,
                                                                   tmp_path):
    work, _ = _clone(world, live_server, tmp_path)
    size = 24 * 1024 * 1024
    (work / "weights.bin").write_bytes(os.urandom(size))  # incompressible; sent chunked by git
    git("add", "weights.bin", cwd=work)
    git("commit", "-q", "-m", "weights", cwd=work)
    # The dev server's own cost per request is the baseline; a buffered body would add 24 MiB.
    baseline = _server_peak_bytes("ls-remote", "origin", cwd=work)
    extra = _server_peak_bytes("push", "-q", "origin", "main", cwd=work) - baseline
    assert extra < 2 * 1024 * 1024, f"the push held {extra / 2**20:.1f} MiB more at once"
    assert [s.commit_sha for s in _submissions(app)] == [
        git("rev-parse", "HEAD", cwd=work).stdout.strip()]


def test_first_push_into_a_repo_without_starter(app, runner, world, live_server, tmp_path):
    roster = tmp_path / "late.csv"
    roster.write_text("name,email,student_id\nCarol,carol@example.edu,carol\n")
    result = runner.invoke(main, ["roster", "import", "ml101", str(roster), "--empty"])
    world.tokens.update(tokens_from(result.stdout))
    url = repo_url(live_server, "ml101", "carol", *world.auth("carol"))
    cloned = git("clone", url, "carol", cwd=tmp_path)
    assert "cloned an empty repository" in cloned.stderr
    sha = commit_file(tmp_path / "carol", "a.py", "a = 1\n", "first")
    git("push", "-q", "origin", "main", cwd=tmp_path / "carol")
    assert [s.commit_sha for s in _submissions(app)] == [sha]


def test_the_git_endpoint_asks_for_credentials_and_speaks_smart_http_only(client, world):
    refs = "/git/ml101/alice.git/info/refs"
    anonymous = client.get(f"{refs}?service=git-upload-pack")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic realm=")
    dumb = client.get(refs, auth=world.auth("alice"))
    assert dumb.status_code == 403 and b"smart HTTP protocol only" in dumb.data
    advertised = client.get(f"{refs}?service=git-receive-pack", auth=world.auth("alice"))
    assert advertised.status_code == 200
    assert advertised.mimetype == "application/x-git-receive-pack-advertisement"


def test_a_broken_git_backend_is_a_clear_server_error(app, client, world):
    app.config["GIT_BINARY"] = "false"   # exits at once, writes nothing
    response = client.get("/git/ml101/alice.git/info/refs?service=git-upload-pack",
                          auth=world.auth("alice"))
    assert response.status_code == 502 and b"git http-backend ended" in response.data


def test_pushes_at_the_same_time_are_all_recorded(app, world, live_server, tmp_path):
    """Two students push at once: both hooks write to the same SQLite file."""
    works = {}
    for login in ("alice", "bob"):
        works[login], _ = _clone(world, live_server, tmp_path, owner=login, login=login,
                                 name=login)
        commit_file(works[login], "a.py", f"who = {login!r}\n", login)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda w: git("push", "origin", "main", cwd=w, check=False),
                                works.values()))
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    assert sorted(s.student.login for s in _submissions_with_students(app)) == ["alice", "bob"]


def _submissions_with_students(app) -> list[Submission]:
    with app.app_context():
        return list(get_session().scalars(select(Submission).options(
            selectinload(Submission.student))))


def test_a_push_the_database_cannot_record_is_refused_cleanly(app, world, live_server,
                                                              tmp_path):
    """The database fails mid-push (here a trigger refuses new submissions): the student
    is told to push again, and no ref moved, so nothing is half-recorded."""
    work, _ = _clone(world, live_server, tmp_path)
    commit_file(work, "a.py", "a = 1\n", "a")
    with app.app_context():
        get_session().execute(text("CREATE TRIGGER refuse BEFORE INSERT ON submissions "
                                   "BEGIN SELECT RAISE(ABORT, 'disk full'); END"))
        get_session().commit()
    refused = git("push", "origin", "main", cwd=work, check=False)
    assert refused.returncode != 0
    assert "the grader's database failed (IntegrityError); push refused, nothing recorded: " \
           "try again shortly" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert _submissions(app) == []
    remote_head = git("ls-remote", "origin", "refs/heads/main", cwd=work).stdout.split()[0]
    assert remote_head != git("rev-parse", "HEAD", cwd=work).stdout.strip()

def test_a_package_too_big_to_grade_is_refused_at_push_naming_the_file_and_limit(
        app, world, live_server, tmp_path):
    work, _ = _clone(world, live_server, tmp_path)
    with open(work / "tinytorch" / "weights.npy", "wb") as big:   # compresses to almost nothing
        big.truncate(70 * 1024 * 1024)
    git("add", "tinytorch/weights.npy", cwd=work)
    git("commit", "-q", "-m", "weights", cwd=work)
    refused = git("push", "origin", "main", cwd=work, check=False)
    assert refused.returncode != 0
    assert "main: tinytorch/ would be 70.1 MiB to grade, over the grader's limit of 64 MiB; " \
           "largest files: tinytorch/weights.npy (70.0 MiB)" in refused.stderr
    assert _submissions(app) == []
