"""The XOR milestone as a student runs it: ``python -m milestones.xor`` in a fresh process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_xor(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "milestones.xor", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_xor_reaches_full_accuracy_and_reports_progress():
    result = run_xor()
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert sum(line.startswith("epoch") for line in lines) >= 2
    assert lines[-1].startswith("final accuracy 100%")


def test_xor_exits_nonzero_when_training_falls_short():
    result = run_xor("--max-epochs", "1")
    assert result.returncode == 1
    assert "FAILED" in result.stderr
