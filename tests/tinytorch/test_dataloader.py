"""Module 10: batching, seeded shuffling, drop_last, batch transforms, and the CIFAR-10 reader
on small fixture files in all three layouts (python batches, image folder, tarball)."""

import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from tinytorch.core.dataloader import (CIFAR10_MEAN, Compose, DataLoader, Dataset, Normalize, RandomCrop, RandomHorizontalFlip,
                                       TensorDataset, load_cifar10)

PIL = pytest.importorskip("PIL.Image", reason="Pillow is needed to write and read the image fixtures")


class ListDataset(Dataset):
    """Not array-backed: forces the per-item fallback path."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


def dataset(n=10):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    return x, np.arange(n, dtype=np.int64)


def test_batches_keep_order_and_types_without_shuffle():
    loader = DataLoader(TensorDataset(*dataset()), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [len(y) for _, y in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([y.data for _, y in batches]), np.arange(10))
    x, y = batches[0]
    assert x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x.data, [[0, 1], [2, 3], [4, 5], [6, 7]])


def test_drop_last_drops_the_short_batch():
    loader = DataLoader(TensorDataset(*dataset()), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [len(y) for _, y in loader] == [4, 4]


def test_shuffle_is_seeded_and_visits_every_item_once_per_epoch():
    loader = DataLoader(TensorDataset(*dataset(50)), batch_size=8, shuffle=True, seed=3)
    epoch1 = np.concatenate([y.data for _, y in loader])
    epoch2 = np.concatenate([y.data for _, y in loader])
    assert sorted(epoch1) == list(range(50)) and sorted(epoch2) == list(range(50))
    assert not np.array_equal(epoch1, np.arange(50)) and not np.array_equal(epoch1, epoch2)
    again = DataLoader(TensorDataset(*dataset(50)), batch_size=8, shuffle=True, seed=3)
    np.testing.assert_array_equal(np.concatenate([y.data for _, y in again]), epoch1)


def test_fallback_path_gives_the_same_batches_as_the_fast_path():
    x, y = dataset(13)
    fast = DataLoader(TensorDataset(x, y), batch_size=5, shuffle=True, seed=1)
    slow = DataLoader(ListDataset(x, y), batch_size=5, shuffle=True, seed=1)
    for (fx, fy), (sx, sy) in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(fx.data, sx.data)
        np.testing.assert_array_equal(fy.data, sy.data)


def test_tensor_dataset_rejects_arrays_of_different_length():
    with pytest.raises(ValueError, match="differ in length"):
        TensorDataset(np.zeros(3), np.zeros(4))


def test_random_crop_cuts_a_window_of_the_padded_image():
    rng = np.random.default_rng(0)
    batch = rng.integers(1, 255, size=(20, 3, 6, 6), dtype=np.uint8)
    out = RandomCrop(6, padding=2)(batch, rng)
    assert out.shape == batch.shape and out.dtype == np.uint8
    padded = np.pad(batch, ((0, 0), (0, 0), (2, 2), (2, 2)))
    offsets = set()
    for img, pad in zip(out, padded):
        hits = [(t, l) for t in range(5) for l in range(5) if np.array_equal(pad[:, t:t + 6, l:l + 6], img)]
        assert hits, "crop is not a window of the padded image"
        offsets.add(hits[0])
    assert len(offsets) > 1  # offsets are drawn per image


def test_flip_and_normalize():
    batch = np.arange(2 * 3 * 2 * 2, dtype=np.uint8).reshape(2, 3, 2, 2)
    np.testing.assert_array_equal(RandomHorizontalFlip(p=1.0)(batch), batch[..., ::-1])
    np.testing.assert_array_equal(RandomHorizontalFlip(p=0.0)(batch), batch)
    out = Normalize((0.5, 0.5, 0.5), (0.25, 0.25, 0.25))(batch)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, (batch / 255.0 - 0.5) / 0.25, rtol=1e-5)
    composed = Compose([RandomHorizontalFlip(p=1.0), Normalize((0,) * 3, (1,) * 3)])(batch)
    np.testing.assert_allclose(composed, batch[..., ::-1] / 255.0, rtol=1e-6)


def test_loader_applies_the_transform_to_inputs_only():
    x = np.zeros((4, 3, 2, 2), dtype=np.uint8)
    y = np.arange(4)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, transform=Normalize((0.5,) * 3, (0.5,) * 3))
    (bx, by), = list(loader)
    np.testing.assert_allclose(bx.data, -1.0)
    np.testing.assert_array_equal(by.data, y)


# ------------------------------------------------------------------ CIFAR-10 files
def fake_images(n, seed):
    return np.random.default_rng(seed).integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)


@pytest.fixture
def python_batches(tmp_path):
    """cifar-10-batches-py with five 2-image training batches and a 3-image test batch."""
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    expected = {"train": ([], []), "test": ([], [])}
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        n = 3 if name == "test_batch" else 2
        images, labels = fake_images(n, i), [int(v) for v in np.arange(n) + i]
        with open(folder / name, "wb") as fh:
            pickle.dump({b"data": images.reshape(n, -1), b"labels": labels, b"batch_label": name.encode()}, fh)
        split = expected["test" if name == "test_batch" else "train"]
        split[0].append(images)
        split[1].extend(labels)
    return tmp_path, {k: (np.concatenate(v[0]), np.array(v[1])) for k, v in expected.items()}


def test_reads_official_python_batches(python_batches):
    root, expected = python_batches
    for split in ("train", "test"):
        for path in (root, root / "cifar-10-batches-py"):
            images, labels = load_cifar10(path, split)
            assert images.dtype == np.uint8 and images.shape == expected[split][0].shape
            np.testing.assert_array_equal(images, expected[split][0])
            np.testing.assert_array_equal(labels, expected[split][1])


def test_cache_dir_holds_npy_files_that_are_reused(python_batches, tmp_path):
    root, expected = python_batches
    cache = tmp_path / "cache"
    first = load_cifar10(root, "test", cache_dir=cache)
    assert len(list(cache.glob("*.npy"))) == 2
    second = load_cifar10(root, "test", cache_dir=cache)
    np.testing.assert_array_equal(second[0], first[0])
    np.testing.assert_array_equal(second[1], expected["test"][1])


def test_missing_and_corrupt_batches_name_the_file(python_batches):
    root, _ = python_batches
    folder = root / "cifar-10-batches-py"
    (folder / "data_batch_1").write_bytes(b"this is not a pickle")
    with pytest.raises(ValueError, match="corrupt CIFAR-10 batch .*data_batch_1"):
        load_cifar10(root, "train")
    (folder / "test_batch").unlink()
    with pytest.raises(FileNotFoundError, match="CIFAR-10 batch missing: .*test_batch"):
        load_cifar10(root, "test")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_cifar10(root / "nowhere", "train")


@pytest.fixture
def image_folder(tmp_path):
    """root/<split>/<class>/*.png with known pixels: 2 classes, 3 train and 2 test images each."""
    from PIL import Image
    root = tmp_path / "cifar-png"
    expected = {}
    for split, per_class in (("train", 3), ("test", 2)):
        images, labels = [], []
        for label, cls in enumerate(["airplane", "bird"]):
            (root / split / cls).mkdir(parents=True)
            for k in range(per_class):
                img = fake_images(1, 100 * label + k + (50 if split == "test" else 0))[0]
                Image.fromarray(img.transpose(1, 2, 0)).save(root / split / cls / f"{k:04d}.png")
                images.append(img)
                labels.append(label)
        expected[split] = (np.stack(images), np.array(labels))
    return root, expected


def test_reads_image_folder_and_its_tarball(image_folder, tmp_path):
    root, expected = image_folder
    tarball = tmp_path / "cifar-png.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        for split in ("train", "test"):
            tar.add(root / split, arcname=split)
    for split in ("train", "test"):
        for source in (root, tarball):
            images, labels = load_cifar10(source, split)
            np.testing.assert_array_equal(images, expected[split][0])
            np.testing.assert_array_equal(labels, expected[split][1])


def test_corrupt_image_and_archive_name_the_file(image_folder, tmp_path):
    root, _ = image_folder
    bad = root / "test" / "bird" / "0001.png"
    bad.write_bytes(b"\x89PNG broken")
    with pytest.raises(ValueError, match="corrupt image .*0001.png"):
        load_cifar10(root, "test")
    archive = tmp_path / "broken.tar.gz"
    archive.write_bytes(b"\x1f\x8b\x08\x00 not really gzip")
    with pytest.raises(ValueError, match="corrupt CIFAR-10 archive .*broken.tar.gz"):
        load_cifar10(archive, "train")
    with pytest.raises(FileNotFoundError, match="image folder not found"):
        load_cifar10(root / "train" / "bird", "train")


REAL_CIFAR = Path(__file__).resolve().parents[3] / "shared" / "data" / "cifar10-jpg.tar.gz"


def test_reads_the_real_jpeg_tarball_test_split():
    if not REAL_CIFAR.exists():
        pytest.skip(f"real CIFAR-10 tarball not present at {REAL_CIFAR}")
    images, labels = load_cifar10(REAL_CIFAR, "test")
    assert images.shape == (10000, 3, 32, 32) and images.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(labels), [1000] * 10)
    means = images.reshape(10000, 3, -1).mean(axis=(0, 2)) / 255
    np.testing.assert_allclose(means, CIFAR10_MEAN, atol=0.01)  # real photos, in RGB order


def test_missing_pillow_is_a_clear_error(image_folder, monkeypatch):
    root, _ = image_folder
    monkeypatch.setitem(__import__("sys").modules, "PIL", None)  # as if Pillow were not installed
    with pytest.raises(ImportError, match="needs Pillow: pip install pillow"):
        load_cifar10(root, "train")


def test_bad_arguments_are_clear_errors(python_batches):
    root, _ = python_batches
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        load_cifar10(root, "validation")
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        DataLoader(TensorDataset(np.zeros(3)), batch_size=0)
    with pytest.raises(ValueError, match="larger than the padded image"):
        RandomCrop(40, padding=2)(np.zeros((1, 3, 32, 32), dtype=np.uint8))
