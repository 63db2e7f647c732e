"""The CIFAR-10 milestone end to end, as a student runs it, on a few hundred generated images.

The fixture is a CIFAR-10-shaped image folder whose classes differ in colour, so two short
epochs must lift test accuracy far above chance (10%) if data loading, the CNN, its
gradients, the optimizer and evaluation all work together.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def colour_cifar(tmp_path_factory):
    Image = pytest.importorskip("PIL.Image", reason="Pillow is needed to write the PNG fixture")
    root = tmp_path_factory.mktemp("colour-cifar")
    rng = np.random.default_rng(0)
    palette = rng.integers(0, 256, size=(10, 3))
    for split, per_class in (("train", 30), ("test", 10)):
        for label in range(10):
            folder = root / split / f"class{label}"
            folder.mkdir(parents=True)
            for k in range(per_class):
                noise = rng.normal(0, 25, size=(32, 32, 3))
                pixels = np.clip(palette[label] + noise, 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"{k:04d}.png")
    return root


def run_cifar10(data: Path, *args: str) -> subprocess.CompletedProcess:
    """One BLAS thread: matmuls this small gain nothing from two, and on a busy CI machine
    two spinning BLAS threads make the run several times slower."""
    command = [sys.executable, "-m", "milestones.cifar10", "--data", str(data), "--limit", "300",
               "--batch-size", "16", "--width", "8", "--minutes", "1", *args]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)


def test_cifar10_milestone_learns_on_a_small_fixture(colour_cifar):
    result = run_cifar10(colour_cifar, "--epochs", "2", "--target", "0.5")
    assert result.returncode == 0, result.stdout + result.stderr
    epochs = re.findall(r"^epoch +(\d+) .*test accuracy (\d\.\d+)", result.stdout, re.M)
    assert [int(e) for e, _ in epochs] == [1, 2]
    assert float(epochs[-1][1]) >= 0.5
    assert "300 train / 100 test images" in result.stdout


def test_cifar10_milestone_exits_nonzero_below_target(colour_cifar):
    result = run_cifar10(colour_cifar, "--epochs", "1", "--target", "1.01")
    assert result.returncode == 1
    assert "FAILED" in result.stderr


def test_cifar10_milestone_names_a_missing_data_path(tmp_path):
    result = run_cifar10(tmp_path / "absent.tar.gz")
    assert result.returncode != 0
    assert "absent.tar.gz" in result.stderr
