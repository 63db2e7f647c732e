"""The README's first command, ``bash deploy/demo.sh``, run as a user runs it (on one module
to keep CI short): it grades, prints the gradebook, writes the Canvas CSV, and stops every
process it started; without Docker it refuses rather than falling back."""
from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess

import pytest

from deploy.stack import CHECKOUT

DEMO = ["bash", str(CHECKOUT / "deploy" / "demo.sh")]


def _demo(*args, env=None, timeout=600):
    return subprocess.run([*DEMO, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})


def test_without_docker_the_demo_stops_and_names_the_unsafe_choice(tmp_path):
    done = _demo("--output", str(tmp_path / "canvas.csv"),
                 env={"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"})
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no usable Docker engine" in done.stdout
    assert "--backend local" in done.stdout and "UNSAFE" in done.stdout
    assert "starting redis-server" not in done.stdout
    assert not (tmp_path / "canvas.csv").exists()


def test_the_demo_grades_prints_exports_and_cleans_up(tmp_path, sandbox_image):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (deploy/install.sh installs it)")
    canvas = tmp_path / "canvas.csv"
    done = _demo("--modules", "01_setup", "--output", str(canvas))
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "graded: modules 01_setup; no milestone" in out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()
            if line.startswith(("assignment", "1. Setup"))}
    assert rows["assignment"] == ["demo-student-1", "demo-student-2", "demo-student-3"]
    assert rows["1."][-3:] == ["10/10", "0/10", "9/10"]   # "1. Setup" splits in two
    assert "setup.blas.names_library" in out                 # the seeded bug's check failed
    exported = {row["SIS Login ID"]: row["1. Setup (5001)"]
                for row in csv.DictReader(canvas.open()) if row["SIS Login ID"]}
    assert exported == {"demo-student-1": "10.00", "demo-student-2": "0.00",
                        "demo-student-3": "9.00"}
    assert re.search(r"TA pages: http://127\.0\.0\.1:\d+/courses/tinytorch-demo/gradebook", out)
    assert re.search(r"student's results: http://127\.0\.0\.1:\d+/submissions/\d+ ", out)
    workdir = re.search(r"under (\S+tinytorch-demo-\S+)", out).group(1)
    assert not os.path.exists(workdir)
    left = subprocess.run(["pgrep", "-f", workdir], capture_output=True, text=True).stdout
    assert left == "", f"processes of the demo still running: {left}"
