"""``python -m tinytorch check``: the student's entry point to the public checks."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _tinytorch(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "tinytorch", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_check_passes_the_reference_on_module_01():
    done = _tinytorch("check", "01", "--no-color")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "score 100%" in done.stdout


def test_without_a_subcommand_it_prints_usage_and_fails():
    done = _tinytorch()
    assert done.returncode == 2
    assert "usage: tinytorch check" in done.stderr
