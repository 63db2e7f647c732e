"""A course dataset dir for CI: an image-folder slice of the real CIFAR-10 and the real Tiny
Shakespeare, built from the files in ../shared/data (skipped, with the reason, without them)."""

import shutil
import tarfile
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
CIFAR_TARBALL = SHARED_DATA / "cifar10-jpg.tar.gz"
SHAKESPEARE = SHARED_DATA / "tinyshakespeare.txt"
# CI-sized runs: the reference reaches 20%+ on this slice in 4 epochs (chance is 10%)
CIFAR_PLAN = {"epochs": 4, "width": 8, "batch_size": 32, "budget_s": 120, "eval_limit": 500}
# Long epochs: a tiny model levels off within seconds, and the rubric's plateau rule would
# then stop a run that did learn (a known limit of the early-stop rule).
GPT_PLAN = {"embed_dim": 32, "num_layers": 1, "num_heads": 2, "context": 32, "batch_size": 16,
            "budget_s": 6, "steps_per_epoch": 1000, "eval_windows": 300, "sample_chars": 60}


def build_course_data(root: Path, train_per_class=120, test_per_class=60) -> Path:
    """``root/cifar10/{train,test}/<class>/*.jpg`` and ``root/tinyshakespeare.txt``."""
    if not (CIFAR_TARBALL.is_file() and SHAKESPEARE.is_file()):
        pytest.skip(f"the course data is not at {SHARED_DATA} (see its README)")
    quota = {"train": train_per_class, "test": test_per_class}
    taken = {}
    with tarfile.open(CIFAR_TARBALL, "r:gz") as tar:
        for member in tar:
            parts = Path(member.name).parts[-3:]
            if not member.isfile() or len(parts) < 3 or parts[0] not in quota:
                continue
            if taken.get(parts[:2], 0) < quota[parts[0]]:
                taken[parts[:2]] = taken.get(parts[:2], 0) + 1
                target = root / "cifar10" / Path(*parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(tar.extractfile(member).read())
    assert len(taken) == 20, f"expected 10 classes x 2 splits in the tarball, got {sorted(taken)}"
    shutil.copyfile(SHAKESPEARE, root / "tinyshakespeare.txt")
    return root
