"""The grader's own CIFAR-10 reader: the trusted side never imports the reference solution
(``tinytorch.core.dataloader`` is course material the students rewrite).

Reads the three layouts a course may keep in its dataset directory, as uint8 images
(N, 3, 32, 32) and int64 labels, classes in sorted folder-name order (the official order):
the official python batches (pickled: only ever the course's own files), an image folder
``<split>/<class>/*.png|jpg``, or a tarball of that folder. Decoded arrays are cached as
``.npy`` beside nothing of the student's, keyed by the source's size and mtime.
"""
from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def read_cifar10(source: Path, split: str, cache_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)`` of ``split`` ("train" or "test"), from the cache when fresh."""
    stat = Path(source).stat()
    key = hashlib.sha256(f"{Path(source).resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{split}"
                         .encode()).hexdigest()[:16]
    images_npy, labels_npy = (Path(cache_dir) / f"grader-cifar10-{split}-{key}-{part}.npy"
                              for part in ("images", "labels"))
    if images_npy.exists() and labels_npy.exists():
        return np.load(images_npy, allow_pickle=False), np.load(labels_npy, allow_pickle=False)
    images, labels = _read(Path(source), split)
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    for target, array in ((images_npy, images), (labels_npy, labels)):
        partial = target.with_suffix(f".part{os.getpid()}.npy")
        np.save(partial, array, allow_pickle=False)
        os.replace(partial, target)
    return images, labels


def _read(source: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    if source.is_file():
        with tarfile.open(source, "r|*") as tar:
            files = {tuple(m.name.split("/")[-2:]): tar.extractfile(m).read() for m in tar
                     if m.isfile() and m.name.split("/")[-3:-2] == [split]
                     and m.name.lower().endswith(IMAGE_SUFFIXES)}
    elif source.name == "cifar-10-batches-py" or (source / "test_batch").exists():
        return _read_batches(source, split)
    else:
        files = {(path.parent.name, path.name): path.read_bytes()
                 for path in (source / split).glob("*/*")
                 if path.suffix.lower() in IMAGE_SUFFIXES}
    if not files:
        raise ValueError(f"no CIFAR-10 {split} images in {source}")
    classes = {name: i for i, name in enumerate(sorted({cls for cls, _ in files}))}
    keys = sorted(files)
    images = np.stack([_decoded(files[key], f"{source}:{split}/{'/'.join(key)}") for key in keys])
    return images, np.array([classes[cls] for cls, _ in keys], dtype=np.int64)


def _read_batches(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    names = ["test_batch"] if split == "test" else [f"data_batch_{i}" for i in range(1, 6)]
    images, labels = [], []
    for name in names:
        with open(folder / name, "rb") as handle:
            batch = pickle.load(handle, encoding="bytes")   # the course's own data file
        images.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        labels.append(np.asarray(batch[b"labels"], dtype=np.int64))
    return np.concatenate(images), np.concatenate(labels)


def _decoded(raw: bytes, name: str) -> np.ndarray:
    try:
        with Image.open(io.BytesIO(raw)) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8).transpose(2, 0, 1)
    except Exception as exc:   # Pillow raises several types for a damaged file
        raise ValueError(f"corrupt image {name}: {type(exc).__name__}: {exc}") from exc
