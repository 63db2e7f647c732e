"""What students push, and how: three kinds of ``tinytorch/`` (the reference, the starter, the
reference with seeded bugs) and a real ``git`` client that pushes over smart HTTP.

Shared by the demo, the end-to-end tests and the burst bench.  The seeded bugs are those of
the grading tests (``deploy/seeded_bugs.py``), each named with the check that must
catch it, so the demo's "buggy" student fails for reasons the suites are known to detect.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.starter import generate_starter
from deploy.seeded_bugs import SEEDED_BUGS, Bug

CHECKOUT = Path(__file__).resolve().parent.parent
PACKAGE = "tinytorch"
RECORDED = re.compile(r"submission (\d+) recorded")


def reference_package(dest: Path) -> Path:
    """A copy of the reference ``tinytorch/``: the student who gets everything right."""
    shutil.copytree(CHECKOUT / PACKAGE, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def starter_package(dest: Path) -> Path:
    """The starter's ``tinytorch/`` (every solution block raises NotImplementedError)."""
    return generate_starter(dest) / PACKAGE


def seeded_bugs(choices: dict[str, str]) -> list[Bug]:
    """``{module id: bug name}`` to the bugs of ``deploy/seeded_bugs.py``."""
    return [SEEDED_BUGS[module][name] for module, name in choices.items()]


def buggy_package(dest: Path, bugs: list[Bug]) -> Path:
    """The reference with ``bugs`` applied; each edit must match exactly once, so a change of
    the reference cannot silently disarm a bug."""
    reference_package(dest)
    for bug in bugs:
        path = dest / Path(bug.path).relative_to(PACKAGE)
        text = path.read_text()
        for old, new in bug.edits:
            if text.count(old) != 1:
                raise ValueError(f"seeded bug for {bug.caught_by}: {old!r} is not exactly once "
                                 f"in {bug.path}")
            text = text.replace(old, new)
        path.write_text(text)
    return dest


@dataclass(frozen=True)
class Push:
    commit: str
    submission_id: int | None      # as the server's hook reported it
    seconds: float
    output: str                    # what git printed (the server's "remote:" lines)


class StudentClone:
    """A student's working copy of their course repo, cloned over HTTP with their token."""

    def __init__(self, api_url: str, course: str, login: str, token: str, workdir: Path):
        host = api_url.removeprefix("http://")
        self.url = f"http://{login}:{token}@{host}/git/{course}/{login}.git"
        self.workdir, self.login = Path(workdir), login
        self.workdir.parent.mkdir(parents=True, exist_ok=True)
        self.git("clone", "-q", self.url, str(self.workdir), cwd=self.workdir.parent)

    def git(self, *args: str, cwd: Path | None = None) -> str:
        """Run git isolated from this machine's configuration (no credential helpers)."""
        home = self.workdir.parent
        env = {**os.environ, "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1",
               "GIT_TERMINAL_PROMPT": "0", "GIT_AUTHOR_NAME": self.login,
               "GIT_AUTHOR_EMAIL": f"{self.login}@example.edu",
               "GIT_COMMITTER_NAME": self.login,
               "GIT_COMMITTER_EMAIL": f"{self.login}@example.edu", "LC_ALL": "C"}
        done = subprocess.run(["git", *args], cwd=cwd or self.workdir, env=env,
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"git {args[0]} as {self.login} failed ({done.returncode}):\n"
                               f"{done.stdout}{done.stderr}")
        return done.stdout + done.stderr

    def push(self, package: Path | None, message: str) -> Push:
        """Commit ``package`` as ``tinytorch/`` (None: keep what is there; the commit may be
        empty) and push it to main; returns what the server recorded."""
        if package is not None:
            shutil.rmtree(self.workdir / PACKAGE, ignore_errors=True)
            shutil.copytree(package, self.workdir / PACKAGE,
                            ignore=shutil.ignore_patterns("__pycache__"))
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        commit = self.git("rev-parse", "HEAD").strip()
        started = time.monotonic()
        output = self.git("push", "-q", "origin", "HEAD:main")
        seconds = time.monotonic() - started
        found = RECORDED.search(output)
        return Push(commit, int(found.group(1)) if found else None, seconds, output)
