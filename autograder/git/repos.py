"""Bare student repos: where they live and how a new one is seeded with the starter."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

SEED_IDENT = {"GIT_AUTHOR_NAME": "autograder", "GIT_AUTHOR_EMAIL": "autograder@localhost",
              "GIT_COMMITTER_NAME": "autograder", "GIT_COMMITTER_EMAIL": "autograder@localhost"}


def repo_relpath(course_slug: str, login: str) -> str:
    return f"{course_slug}/{login}.git"


def git(git_dir: Path, *args: str, env: dict | None = None) -> str:
    """Run one git command against a bare repo; raise with git's own message on failure."""
    result = subprocess.run(["git", f"--git-dir={git_dir}", *args], capture_output=True,
                            text=True, env={**os.environ, **(env or {})})
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def create_bare_repo(path: Path, branch: str, starter_dir: Path | None) -> None:
    """Create ``path`` as a bare repo whose ``branch`` holds one commit of ``starter_dir``.

    Built in a sibling temporary directory and renamed into place, so a failure leaves no
    half-made repo behind. The seed commit is written with plumbing (no push), so it is not
    a submission.
    """
    if path.exists():
        raise FileExistsError(f"repo already exists: {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=".new-", dir=path.parent))
    try:
        git(building, "init", "--bare", "--quiet", f"--initial-branch={branch}")
        if starter_dir is not None:
            _commit_directory(building, branch, starter_dir)
        building.rename(path)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise


def _commit_directory(git_dir: Path, branch: str, directory: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        env = {**SEED_IDENT, "GIT_INDEX_FILE": str(Path(scratch) / "index")}
        git(git_dir, f"--work-tree={directory}", "add", "--all", ".", env=env)
        tree = git(git_dir, "write-tree", env=env).strip()
        commit = git(git_dir, "commit-tree", tree, "-m", "Course starter",
                     env=env).strip()
        git(git_dir, "update-ref", f"refs/heads/{branch}", commit)


def on_branch(git_dir: Path, commit: str, branch: str) -> bool:
    """Whether ``branch`` moved to or through ``commit``: the only commits that may be graded.

    A push whose ref update git refused leaves its commit off the branch (or gone with the
    push's quarantine); both answer False.
    """
    if not git_dir.is_dir():
        raise FileNotFoundError(f"no repo at {git_dir}")
    result = subprocess.run(["git", f"--git-dir={git_dir}", "merge-base", "--is-ancestor",
                             commit, f"refs/heads/{branch}"], capture_output=True)
    return result.returncode == 0
