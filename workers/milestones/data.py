"""The milestones' data on the trusted side: where a course keeps it, and what one job gets.

A job's data is split in three: ``inputs`` (the training set) go to the student's sandbox;
``held_out`` (the evaluation inputs, shuffled with the job's seed, and a probe of training
data) go only to the grader's reference runner, which scores the returned weights; ``answers``
(CIFAR-10 test labels, the held-out characters of Tiny Shakespeare) never leave this process.
Every job relabels its classes (CIFAR-10: a permutation of the ten; XOR: XOR or XNOR;
TinyGPT: a permutation of the character ids), so weights or answers prepared before the job
score as chance unless the model is trained on this job's data.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from contract.modules import MILESTONE_IDS

from workers.milestones.cifar10_files import read_cifar10

CIFAR10_LAYOUTS = ("cifar-10-batches-py", "cifar10", "cifar10-jpg.tar.gz")
TINYSHAKESPEARE = "tinyshakespeare.txt"
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "tinytorch-milestone-cache"
CHUNK_BYTES = 32 * 1024 * 1024    # under the wire's 64 MiB frame cap
XOR_POINTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_LABELS = np.array([0, 1, 1, 0], dtype=np.int64)


class DatasetMissing(RuntimeError):
    """The course's dataset directory lacks a milestone's data: a configuration error at
    worker start, never a failed student."""


def cifar10_source(dataset_dir) -> Path:
    """The CIFAR-10 copy in ``dataset_dir``: official python batches, image folder or tarball."""
    for name in CIFAR10_LAYOUTS:
        if (Path(dataset_dir) / name).exists():
            return Path(dataset_dir) / name
    raise DatasetMissing(f"no CIFAR-10 in the course's dataset directory {dataset_dir}: expected "
                         f"one of {', '.join(CIFAR10_LAYOUTS)}")


def tinyshakespeare_source(dataset_dir) -> Path:
    path = Path(dataset_dir) / TINYSHAKESPEARE
    if not path.is_file():
        raise DatasetMissing(f"no Tiny Shakespeare in the course's dataset directory "
                             f"{dataset_dir}: expected {path}")
    return path


SOURCES = {"cifar10": cifar10_source, "tinygpt": tinyshakespeare_source}


def check_datasets(dataset_dir, milestones=MILESTONE_IDS) -> dict:
    """Call at worker start: ``{milestone: data path}`` for the graded milestones that need
    data, or DatasetMissing naming everything that is absent."""
    if dataset_dir is None or not Path(dataset_dir).is_dir():
        raise DatasetMissing(f"the course's dataset directory {dataset_dir} does not exist")
    found, missing = {}, []
    for name in milestones:
        if name in SOURCES:
            try:
                found[name] = SOURCES[name](dataset_dir)
            except DatasetMissing as exc:
                missing.append(str(exc))
    if missing:
        raise DatasetMissing("; ".join(missing))
    return found


PROBE_SIZE = {"cifar10": 512, "tinygpt": 32}   # training rows the grader's curve is made on


@dataclass(frozen=True)
class JobData:
    inputs: dict              # for the student's sandbox: arrays (large ones as chunk lists)
    held_out: dict            # for the reference runner: eval_x, probe_x/probe_y, prompt
    answers: np.ndarray       # for this side only: class ids, or the next character's id
    classes: int              # number of classes, or the vocabulary size
    vocab: str = ""           # TinyGPT: this job's id -> character, to read the sample


def chunks(array: np.ndarray) -> list:
    """Row blocks of at most CHUNK_BYTES, so each fits in one frame."""
    rows = max(1, CHUNK_BYTES // max(1, array[:1].nbytes))
    return [array[start:start + rows] for start in range(0, len(array), rows)] or [array]


def xor_data(plan: dict, rng: np.random.Generator) -> JobData:
    """Train on the four points labelled XOR or XNOR (the job's draw); evaluate on them
    repeated in a shuffled order."""
    labels = XOR_LABELS ^ int(rng.integers(2))
    order = rng.permutation(np.tile(np.arange(4), int(plan.get("eval_repeats", 16))))
    train_y = labels[:, None].astype(np.float32)
    return JobData({"train_x": XOR_POINTS, "train_y": train_y},
                   {"eval_x": XOR_POINTS[order], "probe_x": XOR_POINTS, "probe_y": train_y},
                   labels[order], 2)


def cifar10_data(plan: dict, rng: np.random.Generator, dataset_dir, cache_dir=DEFAULT_CACHE):
    """The training set (optionally a fixed slice) with this job's class ids, and the test
    images in a per-job order."""
    source = cifar10_source(dataset_dir)
    train_x, train_y = read_cifar10(source, "train", cache_dir)
    test_x, test_y = read_cifar10(source, "test", cache_dir)
    if plan.get("train_limit"):
        keep = np.random.default_rng(0).permutation(len(train_y))[:int(plan["train_limit"])]
        train_x, train_y = train_x[keep], train_y[keep]
    relabel = rng.permutation(10)
    train_y = relabel[train_y].astype(np.int64)
    order = rng.permutation(len(test_y))[:plan.get("eval_limit") or len(test_y)]
    probe = rng.permutation(len(train_y))[:PROBE_SIZE["cifar10"]]
    return JobData({"train_x": chunks(train_x), "train_y": train_y},
                   {"eval_x": chunks(test_x[order]), "probe_x": train_x[probe],
                    "probe_y": train_y[probe]},
                   relabel[test_y[order]].astype(np.int64), 10)


def tinygpt_data(plan: dict, rng: np.random.Generator, dataset_dir) -> JobData:
    """The first 90% of the text to train on; from the last 10%, disjoint windows of
    ``context`` characters whose next character is kept here (no window shows another's).
    Characters get this job's ids; the vocabulary itself never enters the sandbox."""
    text = tinyshakespeare_source(dataset_dir).read_text(encoding="utf-8")
    characters = sorted(set(text))
    relabel = rng.permutation(len(characters))
    lookup = {char: int(relabel[i]) for i, char in enumerate(characters)}
    vocab = "".join(char for _, char in sorted((new, char) for char, new in lookup.items()))
    ids = np.fromiter((lookup[c] for c in text), dtype=np.int16, count=len(text))
    split = int(len(ids) * (1 - float(plan.get("val_fraction", 0.1))))
    width = int(plan["context"]) + 1
    held = ids[split:split + (len(ids) - split) // width * width].reshape(-1, width)
    if len(held) == 0 or split <= width:
        raise DatasetMissing(f"{TINYSHAKESPEARE} is too short for windows of {width} characters")
    chosen = held[rng.permutation(len(held))[:int(plan.get("eval_windows", 800))]]
    starts = rng.integers(0, split - width, size=PROBE_SIZE["tinygpt"])
    probe = np.stack([ids[start:start + width] for start in starts]).astype(np.int64)
    prompt = [lookup.get("\n", 0)]
    return JobData({"train_ids": ids[:split]},
                   {"eval_x": chosen[:, :-1], "probe_x": probe,
                    "prompt_ids": np.array(prompt, dtype=np.int64)},
                   chosen[:, -1].astype(np.int64), len(vocab), vocab)


def job_data(name: str, plan: dict, seed: int, dataset_dir, cache_dir=DEFAULT_CACHE) -> JobData:
    rng = np.random.default_rng([seed, 0x5EED])
    if name == "xor":
        return xor_data(plan, rng)
    if name == "cifar10":
        return cifar10_data(plan, rng, dataset_dir, cache_dir)
    if name == "tinygpt":
        return tinygpt_data(plan, rng, dataset_dir)
    raise ValueError(f"unknown milestone {name!r}: use xor, cifar10 or tinygpt")
