"""Module 10 - DataLoader: datasets, batching, augmentation, and the CIFAR-10 reader.

A ``Dataset`` answers ``len(ds)`` and ``ds[i]``. A ``DataLoader`` cuts it into batches, in
a fresh seeded order each epoch when ``shuffle`` is on. When the dataset is backed by whole
arrays (``TensorDataset``), a batch is one NumPy fancy-indexing call per array instead of
``batch_size`` Python calls: the fast path. Transforms work on whole NCHW batches for the
same reason: one vectorised call per batch, not one per image.

Systems cost:
    memory  - CIFAR-10 kept as uint8 is 60,000 * 3,072 bytes = 184 MB; as float32 it would be
              737 MB, so images stay uint8 until ``Normalize`` turns each batch into float32.
              A batch costs batch_size * C*H*W * 4 bytes after normalisation.
    compute - fancy indexing copies batch_size rows: O(batch bytes). Decoding 60,000 JPEGs
              with Pillow takes tens of seconds, so decoded arrays are cached as ``.npy``
              files in a cache directory the caller chooses.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np

from tinytorch.core.tensor import Tensor

__all__ = [
    "Dataset",
    "TensorDataset",
    "DataLoader",
    "Compose",
    "RandomCrop",
    "RandomHorizontalFlip",
    "Normalize",
    "load_cifar10",
    "CIFAR10_CLASSES",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
]

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)  # per-channel statistics of the training images in [0, 1]
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


# -------------------------------------------------------------------- datasets
class Dataset:
    """Anything with ``__len__`` and ``__getitem__(i) -> tuple of arrays``."""

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index):
        raise NotImplementedError


class TensorDataset(Dataset):
    """Samples are the i-th rows of equally long arrays, e.g. (images, labels)."""

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        self.arrays = tuple(a.data if isinstance(a, Tensor) else np.asarray(a) for a in arrays)
        lengths = {len(a) for a in self.arrays}
        if len(lengths) != 1:
            raise ValueError(f"TensorDataset arrays differ in length: {[len(a) for a in self.arrays]}")

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)


class DataLoader:
    """Iterate over a dataset in batches of ``Tensor``s.

    ``shuffle`` draws a new permutation each epoch from a generator seeded by ``seed``, so a
    run is reproducible and every sample appears exactly once per epoch. ``transform`` is
    applied to the first array of each batch (the inputs) with the same generator.
    Floating-point inputs become float32 tensors; integer arrays (labels) keep int64.
    """

    def __init__(self, dataset, batch_size: int = 32, shuffle: bool = False, drop_last: bool = False,
                 seed: int | None = None, transform=None):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.dataset, self.batch_size = dataset, batch_size
        self.shuffle, self.drop_last, self.transform = shuffle, drop_last, transform
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _fetch(self, indices: np.ndarray) -> list:
        """Fast path: one fancy index per array. Fallback: stack ``batch_size`` items."""
        ### BEGIN SOLUTION
        arrays = getattr(self.dataset, "arrays", None)
        if arrays is not None:
            return [a[indices] for a in arrays]
        items = [self.dataset[int(i)] for i in indices]
        return [np.stack([np.asarray(item[k]) for item in items]) for k in range(len(items[0]))]
        ### END SOLUTION

    def __iter__(self):
        n = len(self.dataset)
        ### BEGIN SOLUTION
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            batch = self._fetch(order[start:start + self.batch_size])
            if self.transform is not None:
                batch[0] = self.transform(batch[0], self.rng)
            yield tuple(_to_tensor(a) for a in batch)
        ### END SOLUTION


def _to_tensor(a: np.ndarray) -> Tensor:
    return Tensor(a, dtype=np.int64) if np.issubdtype(a.dtype, np.integer) and a.ndim == 1 else Tensor(a)


# ------------------------------------------------------------------ transforms
class Compose:
    """Apply transforms in order: ``Compose([RandomCrop(32, 4), RandomHorizontalFlip(), Normalize(m, s)])``."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, batch: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        for t in self.transforms:
            batch = t(batch, rng)
        return batch


def _rng(rng):
    return rng if rng is not None else np.random.default_rng()


class RandomCrop:
    """Zero-pad each NCHW image by ``padding`` and cut a random ``size`` x ``size`` window."""

    def __init__(self, size: int, padding: int = 0):
        self.size, self.padding = size, padding

    def __call__(self, batch: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        n, _, h, w = batch.shape
        p, s = self.padding, self.size
        if s > h + 2 * p or s > w + 2 * p:
            raise ValueError(f"RandomCrop({s}, padding={p}) is larger than the padded image {h}x{w}")
        ### BEGIN SOLUTION
        padded = np.pad(batch, ((0, 0), (0, 0), (p, p), (p, p)))
        rng = _rng(rng)
        top = rng.integers(0, h + 2 * p - s + 1, size=n)
        left = rng.integers(0, w + 2 * p - s + 1, size=n)
        windows = np.lib.stride_tricks.sliding_window_view(padded, (s, s), axis=(2, 3))
        return windows[np.arange(n), :, top, left]
        ### END SOLUTION


class RandomHorizontalFlip:
    """Mirror each image left-right with probability ``p``."""

    def __init__(self, p: float = 0.5):
        self.p = p

    def __call__(self, batch: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        ### BEGIN SOLUTION
        flip = _rng(rng).random(len(batch)) < self.p
        out = batch.copy()
        out[flip] = batch[flip, :, :, ::-1]
        return out
        ### END SOLUTION


class Normalize:
    """(x - mean) / std per channel, as float32; uint8 images are first scaled to [0, 1]."""

    def __init__(self, mean, std):
        self.mean = np.asarray(mean, dtype=np.float32).reshape(1, -1, 1, 1)
        self.std = np.asarray(std, dtype=np.float32).reshape(1, -1, 1, 1)

    def __call__(self, batch: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        ### BEGIN SOLUTION
        scale = np.float32(1 / 255) if batch.dtype == np.uint8 else np.float32(1)
        return (batch.astype(np.float32) * scale - self.mean) / self.std
        ### END SOLUTION


# -------------------------------------------------------------------- CIFAR-10
def load_cifar10(path, split: str = "train", cache_dir=None) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 as (images uint8 (N, 3, 32, 32), labels int64 (N,)) from any of three layouts.

    ``path`` may be:
      * the official python version: a directory ``cifar-10-batches-py`` (or its parent)
        with ``data_batch_1..5`` and ``test_batch``. Those files are pickled dicts, so they
        are read with ``pickle.load(..., encoding="bytes")``: only ever point this at the
        course's own data files, never at a file from an untrusted source;
      * an image folder ``path/<split>/<class>/*.png|jpg`` (decoded with Pillow);
      * a ``.tar.gz`` of such a folder (the course's ``cifar10-jpg.tar.gz``), read directly.
    Class ids follow the sorted class folder names (the official CIFAR-10 order). With
    ``cache_dir`` the decoded arrays are saved there as ``.npy`` and reused while the source
    is unchanged. A missing or corrupt file raises an error that names it.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"CIFAR-10 data not found: {path}")
    cache = _cache_paths(path, split, cache_dir) if cache_dir is not None else None
    if cache is not None and cache[0].exists() and cache[1].exists():
        return np.load(cache[0], allow_pickle=False), np.load(cache[1], allow_pickle=False)
    if path.is_file():
        images, labels = _read_image_tarball(path, split)
    elif (path / "cifar-10-batches-py").is_dir() or (path / "test_batch").exists():
        images, labels = _read_python_batches(path, split)
    else:
        images, labels = _read_image_folder(path / split)
    if cache is not None:
        _save_atomically(cache[0], images)
        _save_atomically(cache[1], labels)
    return images, labels


def _cache_paths(path: Path, split: str, cache_dir) -> tuple[Path, Path]:
    """Cache file names that change whenever the source file or folder changes."""
    st = path.stat()
    key = hashlib.sha256(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{split}".encode()).hexdigest()[:16]
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    return cache_dir / f"cifar10-{split}-{key}-images.npy", cache_dir / f"cifar10-{split}-{key}-labels.npy"


def _save_atomically(target: Path, array: np.ndarray) -> None:
    tmp = target.with_suffix(f".tmp{os.getpid()}.npy")
    np.save(tmp, array, allow_pickle=False)
    os.replace(tmp, target)


def _read_python_batches(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    folder = path / "cifar-10-batches-py" if (path / "cifar-10-batches-py").is_dir() else path
    names = ["test_batch"] if split == "test" else [f"data_batch_{i}" for i in range(1, 6)]
    images, labels = [], []
    for name in names:
        file = folder / name
        if not file.exists():
            raise FileNotFoundError(f"CIFAR-10 batch missing: {file}")
        ### BEGIN SOLUTION
        try:
            with open(file, "rb") as fh:
                batch = pickle.load(fh, encoding="bytes")  # the course's own data files only
            data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
            batch_labels = np.asarray(batch[b"labels"], dtype=np.int64)
        except Exception as exc:  # any unpickling or shape failure means the file is damaged
            raise ValueError(f"corrupt CIFAR-10 batch {file}: {type(exc).__name__}: {exc}") from exc
        if len(data) != len(batch_labels):
            raise ValueError(f"corrupt CIFAR-10 batch {file}: {len(data)} images but {len(batch_labels)} labels")
        images.append(data)
        labels.append(batch_labels)
        ### END SOLUTION
    return np.concatenate(images), np.concatenate(labels)


def _decode_image(raw: bytes, name: str) -> np.ndarray:
    """Bytes of a PNG/JPEG -> uint8 (3, H, W)."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("reading CIFAR-10 image files needs Pillow: pip install pillow "
                          "(tinytorch itself needs only NumPy)") from None
    ### BEGIN SOLUTION
    try:
        with Image.open(io.BytesIO(raw)) as img:
            return np.asarray(img.convert("RGB"), dtype=np.uint8).transpose(2, 0, 1)
    except Exception as exc:  # Pillow raises several types for damaged files
        raise ValueError(f"corrupt image {name}: {type(exc).__name__}: {exc}") from exc
    ### END SOLUTION


def _stack_images(decoded: list, labels: list, source) -> tuple[np.ndarray, np.ndarray]:
    if not decoded:
        raise FileNotFoundError(f"no images found in {source}")
    shapes = {img.shape for img in decoded}
    if len(shapes) != 1:
        raise ValueError(f"images in {source} differ in size: {sorted(shapes)}")
    return np.stack(decoded), np.asarray(labels, dtype=np.int64)


def _read_image_folder(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    if not folder.is_dir():
        raise FileNotFoundError(f"CIFAR-10 image folder not found: {folder} "
                                f"(expected <split>/<class>/*.png|jpg, or cifar-10-batches-py)")
    classes = sorted(d.name for d in folder.iterdir() if d.is_dir())
    decoded, labels = [], []
    for label, name in enumerate(classes):
        for file in sorted((folder / name).iterdir()):
            if file.suffix.lower() in _IMAGE_SUFFIXES:
                decoded.append(_decode_image(file.read_bytes(), str(file)))
                labels.append(label)
    return _stack_images(decoded, labels, folder)


def _read_image_tarball(tarball: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Read ``<split>/<class>/<file>`` members straight from the archive, in name order."""
    try:
        with tarfile.open(tarball, "r|*") as tar:  # streaming: one pass, no seeks back
            members = {}
            for m in tar:
                parts = m.name.split("/")
                if (m.isfile() and len(parts) >= 3 and parts[-3] == split
                        and parts[-1].lower().endswith(_IMAGE_SUFFIXES)):
                    members[(parts[-2], parts[-1])] = tar.extractfile(m).read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ValueError(f"corrupt CIFAR-10 archive {tarball}: {type(exc).__name__}: {exc}") from exc
    classes = sorted({cls for cls, _ in members})
    index = {cls: i for i, cls in enumerate(classes)}
    keys = sorted(members)
    decoded = [_decode_image(members[k], f"{tarball}:{split}/{k[0]}/{k[1]}") for k in keys]
    return _stack_images(decoded, [index[cls] for cls, _ in keys], f"{tarball} (split {split})")
