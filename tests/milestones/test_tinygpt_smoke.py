"""The TinyGPT milestone as a student runs it, on a small slice of Tiny Shakespeare and a tiny model."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHAKESPEARE = ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"
TINY = ["--embed-dim", "32", "--num-layers", "1", "--num-heads", "2", "--context", "32", "--batch-size", "16",
        "--eval-every", "25", "--eval-batches", "4", "--lr", "0.01", "--warmup-steps", "10"]


def run_tinygpt(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "milestones.tinygpt", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_tinygpt_learns_on_a_slice_and_prints_losses_and_a_sample(tmp_path):
    if not SHAKESPEARE.exists():
        pytest.skip(f"{SHAKESPEARE} is not on this machine")
    data = tmp_path / "slice.txt"
    data.write_text(SHAKESPEARE.read_text(encoding="utf-8")[:40_000], encoding="utf-8")
    result = run_tinygpt("--data", str(data), "--minutes", "1", "--max-steps", "200", "--sample-chars", "80", *TINY)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "36000 train / 4000 validation characters" in out
    vals = [float(v) for v in re.findall(r"^step +\d+ .* val (\d+\.\d+)", out, flags=re.M)]
    assert len(vals) >= 3, out
    assert vals[-1] < vals[0] - 0.8, f"validation loss did not fall enough: {vals}"
    samples = re.split(r"--- sample \d .*---\n", out)[1:]
    assert len(samples) == 2 and all(len(s) >= 80 for s in samples), out
    assert samples[0] != samples[1]


def test_tinygpt_reports_a_missing_data_file_clearly(tmp_path):
    result = run_tinygpt("--data", str(tmp_path / "absent.txt"), "--minutes", "0.1")
    assert result.returncode == 2
    assert "absent.txt: no such file" in result.stderr
