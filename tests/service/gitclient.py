"""A real git client for the tests, isolated from the machine's git configuration."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path


def git(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    home = cwd if cwd.is_dir() else cwd.parent
    env = {**os.environ, "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_TERMINAL_PROMPT": "0", "GIT_AUTHOR_NAME": "Student",
           "GIT_AUTHOR_EMAIL": "student@example.edu", "GIT_COMMITTER_NAME": "Student",
           "GIT_COMMITTER_EMAIL": "student@example.edu", "LC_ALL": "C"}
    result = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({result.returncode}):\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


def repo_url(base: str, course: str, owner: str, login: str, token: str) -> str:
    host = base.removeprefix("http://")
    return f"http://{login}:{token}@{host}/git/{course}/{owner}.git"


def commit_file(workdir: Path, name: str, text: str, message: str) -> str:
    (workdir / name).write_text(text)
    git("add", name, cwd=workdir)
    git("commit", "-q", "-m", message, cwd=workdir)
    return git("rev-parse", "HEAD", cwd=workdir).stdout.strip()
