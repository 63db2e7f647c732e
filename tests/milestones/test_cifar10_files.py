"""The grader's CIFAR-10 reader gives what the course's reader gives, on all three layouts."""
import pickle
import tarfile

import numpy as np
import pytest
from PIL import Image

from tinytorch.core.dataloader import load_cifar10
from workers.milestones.cifar10_files import read_cifar10


def pixels(n, seed):
    return np.random.default_rng(seed).integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)


@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    """The same tiny dataset as python batches, an image folder and a tarball of that folder."""
    root = tmp_path_factory.mktemp("cifar")
    batches = root / "cifar-10-batches-py"
    batches.mkdir()
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        with open(batches / name, "wb") as handle:
            pickle.dump({b"data": pixels(2, i).reshape(2, -1), b"labels": [i % 3, 1]}, handle)
    folder = root / "cifar10"
    for split in ("train", "test"):
        for label, cls in enumerate(["bird", "airplane"]):
            (folder / split / cls).mkdir(parents=True)
            for k, image in enumerate(pixels(2, 10 * label + (5 if split == "test" else 0))):
                Image.fromarray(image.transpose(1, 2, 0)).save(folder / split / cls / f"{k}.png")
    tarball = root / "cifar10-jpg.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(folder, arcname="cifar10-jpg")
    return [batches, folder, tarball]


@pytest.mark.parametrize("layout", [0, 1, 2], ids=["python-batches", "image-folder", "tarball"])
@pytest.mark.parametrize("split", ["train", "test"])
def test_grader_reads_what_the_course_reader_reads(layouts, layout, split, tmp_path):
    images, labels = read_cifar10(layouts[layout], split, tmp_path)
    expected_images, expected_labels = load_cifar10(layouts[layout], split)
    assert images.dtype == np.uint8 and labels.dtype == np.int64
    np.testing.assert_array_equal(images, expected_images)
    np.testing.assert_array_equal(labels, expected_labels)
    cached = read_cifar10(layouts[layout], split, tmp_path)   # now from the .npy cache
    assert len(list(tmp_path.glob("*.npy"))) == 2
    np.testing.assert_array_equal(cached[0], images)


def test_a_folder_without_images_is_named(tmp_path):
    (tmp_path / "cifar10" / "train").mkdir(parents=True)
    with pytest.raises(ValueError, match="no CIFAR-10 train images in .*cifar10"):
        read_cifar10(tmp_path / "cifar10", "train", tmp_path / "cache")
