"""Module 10 - DataLoader: hidden checks (graders only): shuffling with partial batches, the
randomness of the augmentations, and CIFAR-10 layouts and damaged files."""

import inspect

import numpy as np
import pytest

from harness.checkpoints import assert_array, assert_equal, check
from harness.checkpoints.inputs import literal
from harness.checkpoints.public.test_10_dataloader import (
    BATCHES, IMPORT, assert_cifar, assert_crops, cifar_formula, dataset, epoch,
    loader_case, rows_seen, write_cifar)


@check("dataloader.shuffle.partial_batches", "shuffling keeps the last partial batch (every "
       "item once), or drops it with drop_last (no item twice)", "hidden")
def test_shuffle_partial_batches(student, rng):
    for (n, size), seed in (((11, 4), 3), (loader_case(rng), int(rng.integers(10**6)))):
        student.exec(dataset(n) + f"kept = DataLoader(ds, batch_size={size}, shuffle=True, "
                     f"seed={seed})\ndropped = DataLoader(ds, batch_size={size}, shuffle=True, "
                     f"drop_last=True, seed={seed})")
        kept = epoch(student, "kept")
        assert_equal([len(b[0]) for b in kept], [size] * (n // size) + [n % size],
                     what=f"the batch sizes when shuffling {n} items in batches of {size}")
        assert_equal(sorted(rows_seen(kept)), list(range(n)), what="the sorted rows of one epoch")
        dropped, whole = rows_seen(epoch(student, "dropped")), n - n % size
        if len(dropped) != whole or len(set(dropped)) != whole:
            raise AssertionError(f"shuffle with drop_last gave rows {dropped}: expected {whole} "
                                 "distinct")


@check("dataloader.loader.one_big_batch", "a batch_size larger than the dataset gives one batch "
       "of everything (none with drop_last)", "hidden")
def test_one_big_batch(student, rng):
    n = int(rng.integers(2, 30))
    for n, size in ((7, 50), (n, n + int(rng.integers(1, 40)))):
        student.exec(dataset(n))
        assert_equal([len(b[0]) for b in epoch(student, f"DataLoader(ds, batch_size={size})")],
                     [n], what=f"the batch sizes for {n} items and batch_size={size}")
        assert_equal(epoch(student, f"DataLoader(ds, batch_size={size}, drop_last=True)"), [],
                     what=f"the batches for {n} items, batch_size={size} and drop_last=True")


@check("dataloader.transforms.random", "RandomCrop picks varied windows and "
       "RandomHorizontalFlip(0.5) flips about half the images", "hidden")
def test_transforms_random(student, rng):
    image = (np.arange(2 * 8 * 8) % 250 + 1).astype(np.uint8).reshape(1, 2, 8, 8)
    for image, seed in ((image, 5), (rng.integers(1, 256, (1, 2, 8, 8)).astype(np.uint8),
                                     int(rng.integers(10**6)))):
        assert_varied_augmentations(student, np.tile(image, (64, 1, 1, 1)), seed)


def assert_varied_augmentations(student, images, seed):
    """64 copies of one image: RandomCrop(8, padding=4) must use many offsets, and
    RandomHorizontalFlip(0.5) flip about half of 512 copies."""
    student.exec(f"{IMPORT}\nimages = {literal(images)}\nrng = np.random.default_rng({seed})\n"
                 "many = np.repeat(images, 8, axis=0)")
    offsets = assert_crops(student.array("RandomCrop(8, padding=4)(images, rng)"), images, 8, 4)
    if len(set(offsets)) < 10:
        raise AssertionError(f"RandomCrop(8, padding=4) cut 64 crops from only "
                             f"{len(set(offsets))} distinct offsets (there are 81)")
    flipped = student.array("RandomHorizontalFlip(0.5)(many, rng)")
    if getattr(flipped, "shape", None) != (512, 2, 8, 8):
        raise AssertionError(f"RandomHorizontalFlip(0.5) changed the batch shape to "
                             f"{getattr(flipped, 'shape', None)}")
    mirrored = np.all(flipped == images[:1, ..., ::-1], axis=(1, 2, 3))
    unchanged = np.all(flipped == images[:1], axis=(1, 2, 3))
    if not np.all(mirrored | unchanged) or not 0.4 <= mirrored.mean() <= 0.6:
        raise AssertionError(f"RandomHorizontalFlip(0.5) mirrored {mirrored.sum()} of 512 "
                             f"images and left {unchanged.sum()} unchanged")


@check("dataloader.cifar.batches_folder", "load_cifar10 also accepts the cifar-10-batches-py "
       "folder itself", "hidden")
def test_cifar_batches_folder(student, rng):
    for formula in ((7, 13), cifar_formula(rng)):
        student.exec(f"{IMPORT}\n{write_cifar(*formula)}")
        assert_cifar(student, "load_cifar10(folder, 'test')", "test", formula)


def failure_naming(student, code, file):
    """``code`` must raise an error (any type) whose message names ``file``."""
    error = student.raises(code, "Exception")
    if file not in error.message:
        raise AssertionError(f"`{code}` raised {error}, which does not name the file {file}")


@check("dataloader.cifar.missing_batch", "a missing CIFAR-10 batch file raises "
       "FileNotFoundError naming it", "hidden")
def test_cifar_missing_batch(student, rng):
    for formula, name in (((7, 13), "data_batch_4"),
                          (cifar_formula(rng), str(rng.choice(BATCHES[:5])))):
        student.exec(f"{IMPORT}\n{write_cifar(*formula)}_ = load_cifar10(root, 'train')\n"
                     f"os.remove(os.path.join(folder, {name!r}))")
        student.raises("load_cifar10(root, 'train')", "FileNotFoundError")
        failure_naming(student, "load_cifar10(root, 'train')", name)


@check("dataloader.cifar.corrupt_batch", "a truncated CIFAR-10 batch file, or one with fewer "
       "labels than images, raises an error naming it", "hidden")
def test_cifar_corrupt_batch(student, rng):
    for formula, (truncated, short) in (((7, 13), ("data_batch_2", "data_batch_3")),
                                        (cifar_formula(rng), rng.choice(BATCHES[:5], size=2,
                                                                        replace=False))):
        student.exec(f"{IMPORT}\n{write_cifar(*formula)}_ = load_cifar10(root, 'train')\n"
                     f"path = os.path.join(folder, {str(truncated)!r})\nwhole = open(path, "
                     "'rb').read()\nopen(path, 'wb').write(whole[:len(whole) // 2])")
        failure_naming(student, "load_cifar10(root, 'train')", str(truncated))
        student.exec(f"open(path, 'wb').write(whole)\npath = os.path.join(folder, {str(short)!r})\n"
                     "with open(path, 'rb') as f:\n    batch = pickle.load(f, encoding='bytes')\n"
                     "batch[b'labels'] = batch[b'labels'][:2]\n"
                     "with open(path, 'wb') as f:\n    pickle.dump(batch, f, protocol=2)")
        failure_naming(student, "load_cifar10(root, 'train')", str(short))


def tiny_image(label, i, shift=0):
    """The (3, 6, 5) uint8 image ``i`` of class ``label`` in the fake image folder."""
    return ((np.arange(90).reshape(3, 6, 5) * 11 + 50 * label + 7 * i + shift) % 256).astype(
        np.uint8)


def write_folder(names=("airplane", "cat"), shift=0):
    """Runner code writing <root>/train/<name>/{0,1}.png for two class names (sorted), the
    later name first, so labels must come from sorting."""
    return ("import os, tempfile\nfrom PIL import Image\nroot = tempfile.mkdtemp()\n"
            + inspect.getsource(tiny_image)
            + f"""for label, name in ((1, {names[1]!r}), (0, {names[0]!r})):
    os.makedirs(os.path.join(root, "train", name))
    for i in range(2):
        Image.fromarray(tiny_image(label, i, {shift}).transpose(1, 2, 0)).save(
            os.path.join(root, "train", name, f"{{i}}.png"))
""")


def folder_case(rng):
    """A job's own two class names (sorted) and pixel shift for ``write_folder``."""
    names = sorted(rng.choice(["bird", "deer", "dog", "frog", "horse", "ship", "truck"], size=2,
                              replace=False).tolist())
    return names, int(rng.integers(1, 256))


def assert_folder_read(student, source, shift=0):
    """``images, labels`` in the runner must be the fake folder's, the first name (0) before
    the second (1)."""
    expected = np.stack([tiny_image(label, i, shift) for label in (0, 1) for i in range(2)])
    assert_array(student.array("images"), expected, dtype=np.uint8,
                 what=f"the images of {source}")
    assert_array(student.array("labels"), [0, 0, 1, 1], dtype=np.int64,
                 what=f"the labels of {source}")


def needs_pillow(student):
    """Writing and reading PNGs needs Pillow in the runner; without it the check did not run."""
    student.exec("try:\n    import PIL\n    has_pillow = True\n"
                 "except ImportError:\n    has_pillow = False")
    if student.eval("has_pillow") is not True:
        pytest.skip("Pillow is not installed in the runner (the sandbox image has it)")


@check("dataloader.cifar.image_folder", "load_cifar10 reads <split>/<class>/*.png, labels "
       "following the sorted class names; a damaged PNG raises an error naming it", "hidden")
def test_cifar_image_folder(student, rng):
    needs_pillow(student)
    for names, shift in ((("airplane", "cat"), 0), folder_case(rng)):
        student.exec(f"{IMPORT}\n{write_folder(names, shift)}"
                     "images, labels = load_cifar10(root, 'train')")
        assert_folder_read(student, f"a folder train/{{{','.join(names)}}}/{{0,1}}.png", shift)
        student.exec(f"open(os.path.join(root, 'train', {names[1]!r}, '1.png'), 'wb')"
                     ".write(b'not a png')")
        failure_naming(student, "load_cifar10(root, 'train')", "1.png")


@check("dataloader.cifar.image_tarball", "load_cifar10 reads a .tar.gz of <split>/<class>/*.png "
       "like the folder it holds", "hidden")
def test_cifar_image_tarball(student, rng):
    needs_pillow(student)
    for names, shift in ((("airplane", "cat"), 0), folder_case(rng)):
        student.exec(f"{IMPORT}\n{write_folder(names, shift)}import tarfile\n"
                     "archive = os.path.join(root, 'cifar10-png.tar.gz')\n"
                     "with tarfile.open(archive, 'w:gz') as tar:\n"
                     "    tar.add(os.path.join(root, 'train'), arcname='cifar10/train')\n"
                     "images, labels = load_cifar10(archive, 'train')")
        assert_folder_read(student, f"a .tar.gz of cifar10/train/{{{','.join(names)}}}/{{0,1}}"
                           ".png", shift)


@check("dataloader.cifar.image_modes", "load_cifar10 gives grey and RGBA PNGs as 3-channel "
       "RGB images: grey copied to each channel, alpha dropped", "hidden")
def test_cifar_image_modes(student, rng):
    needs_pillow(student)
    for shift in (0, int(rng.integers(1, 256))):
        assert_modes_read(student, tiny_image(0, 0, shift)[0],
                          np.concatenate([tiny_image(1, 1, shift), tiny_image(0, 1, shift)[:1]]))


def assert_modes_read(student, grey, rgba):
    """A grey and an RGBA PNG of test/bird come back as RGB: grey copied, alpha dropped."""
    student.exec(f"{IMPORT}\nimport os, tempfile\nfrom PIL import Image\n"
                 "root = tempfile.mkdtemp()\nos.makedirs(os.path.join(root, 'test', 'bird'))\n"
                 f"Image.fromarray({literal(grey)}, 'L').save(os.path.join(root, 'test', 'bird', "
                 "'0.png'))\n"
                 f"Image.fromarray({literal(rgba)}.transpose(1, 2, 0), 'RGBA').save("
                 "os.path.join(root, 'test', 'bird', '1.png'))\n"
                 "images, labels = load_cifar10(root, 'test')")
    assert_array(student.array("images"), np.stack([np.stack([grey] * 3), rgba[:3]]),
                 dtype=np.uint8, what="the images of test/bird/{0 (grey), 1 (RGBA)}.png")
    assert_array(student.array("labels"), [0, 0], dtype=np.int64, what="the labels of test/bird")


@check("dataloader.transforms.crop_offsets", "RandomCrop on non-square images reaches every "
       "offset from the first to the last window, across both axes", "hidden")
def test_crop_offsets(student, rng):
    height, width, size, padding = [(5, 7, 4, 1), (6, 4, 3, 2), (4, 9, 4, 0)][rng.integers(3)]
    images = rng.uniform(1, 2, (150, 2, height, width))
    student.exec(f"{IMPORT}\nimages = {literal(images)}\n"
                 f"crops = RandomCrop({size}, padding={padding})(images, "
                 f"np.random.default_rng({int(rng.integers(1000))}))")
    offsets = np.array(assert_crops(student.array("crops"), images, size, padding))
    for axis, name, extent in ((0, "top", height), (1, "left", width)):
        last = extent + 2 * padding - size
        reached = sorted(set(offsets[:, axis].tolist()))
        if reached != list(range(last + 1)):
            raise AssertionError(f"over 150 crops of {height} x {width} images, "
                                 f"RandomCrop({size}, padding={padding}) used the {name} offsets "
                                 f"{reached}: every offset 0..{last} should occur")


@check("dataloader.augment.seeded", "a shuffling loader with random transforms repeats its "
       "epochs exactly under the same seed, and not under another", "hidden")
def test_augment_seeded(student, rng):
    images = rng.uniform(0, 1, (12, 2, 5, 5))
    seeds = [int(s) for s in rng.choice(10**6, size=2, replace=False)]
    student.exec(f"{IMPORT}\nds = TensorDataset({literal(images)}, np.arange(12))\n"
                 "def epochs(seed):\n"
                 "    augment = Compose([RandomCrop(4, padding=1), RandomHorizontalFlip(0.5)])\n"
                 "    loader = DataLoader(ds, batch_size=5, shuffle=True, seed=seed, "
                 "transform=augment)\n"
                 "    return [[list(b) for b in loader] for _ in range(2)]")
    first, again, other = (student.eval(f"epochs({seed})") for seed in (seeds[0], *seeds))
    for number, (a, b) in enumerate(zip(first, again)):
        for k, (x, y) in enumerate(zip(a, b)):
            assert_array(y[0], x[0], rtol=0, atol=0, what=f"the inputs of batch {k} of epoch "
                         f"{number + 1} from a second loader with seed={seeds[0]}")
    if all(np.array_equal(x[0], y[0]) for a, b in zip(first, other) for x, y in zip(a, b)):
        raise AssertionError(f"seeds {seeds[0]} and {seeds[1]} gave the same augmented batches")
    assert_augmentation_draws(student, seeds)


def assert_augmentation_draws(student, seeds):
    """Without shuffling the batches hold the same images every epoch, so only the loader's
    generator can make the augmentations differ: between epochs, and between seeds."""
    student.exec("def plain_epochs(seed):\n"
                 "    augment = Compose([RandomCrop(4, padding=1), RandomHorizontalFlip(0.5)])\n"
                 "    loader = DataLoader(ds, batch_size=5, seed=seed, transform=augment)\n"
                 "    return [np.concatenate([b[0].data for b in loader]) for _ in range(2)]")
    (one, two), (other, _) = (epoch_inputs(student, f"plain_epochs({seed})") for seed in seeds)
    if np.array_equal(one, two):
        raise AssertionError("a loader with random transforms and shuffle=False augmented its "
                             "second epoch exactly like its first: draw from the loader's "
                             "generator, not a fresh one per batch")
    if np.array_equal(one, other):
        raise AssertionError(f"loaders with seeds {seeds[0]} and {seeds[1]} and shuffle=False "
                             "gave the same augmented epoch: the transforms ignore the seed")


def epoch_inputs(student, expr):
    """``expr`` gives two epochs' inputs, each a (12, 2, 4, 4) array (checked here)."""
    epochs = student.eval(expr)
    if type(epochs) is not list or len(epochs) != 2 or not all(
            type(e) is np.ndarray and e.shape == (12, 2, 4, 4) for e in epochs):
        raise AssertionError(f"`{expr}` should give two epochs of 12 augmented 2 x 4 x 4 inputs")
    return epochs


@check("dataloader.transforms.normalize_channels", "Normalize works for 1 or 5 channels, a batch "
       "of one, tiny standard deviations and float pixels beyond 1, giving float32 and leaving "
       "its input alone", "hidden")
def test_normalize_channels(student, rng):
    student.exec(IMPORT)
    for shape, dtype, spread in (((1, 1, 3, 2), np.uint8, 1), ((4, 5, 2, 3), np.float64, 1),
                                 ((2, 5, 1, 1), np.uint8, 1), ((3, 2, 4, 4), np.float32, 40),
                                 ((2, 3, 2, 2), np.float64, 300)):
        channels = shape[1]
        images = (rng.integers(0, 256, shape) if dtype == np.uint8
                  else rng.uniform(0, spread, shape)).astype(dtype)
        mean = rng.uniform(0.2, 0.8, channels).round(4)
        std = (10.0 ** rng.uniform(-3, 0, channels)).round(6)
        scaled = images / 255.0 if dtype == np.uint8 else images
        expected = (scaled - mean.reshape(1, -1, 1, 1)) / std.reshape(1, -1, 1, 1)
        setup = f"{np.dtype(dtype).name} images of shape {shape} in [0, {spread}]"
        student.exec(f"images = {literal(images)}")
        assert_array(student.array(f"Normalize({mean.tolist()}, {std.tolist()})(images)"),
                     expected, dtype=np.float32, rtol=1e-5, atol=1e-4,
                     what=f"Normalize(mean, std={std.tolist()}) of {setup} (only uint8 is "
                     "scaled by 1/255)")
        assert_array(student.array("images"), images, dtype=dtype, rtol=0, atol=0,
                     what=f"the {setup} after Normalize (it must not overwrite its input)")
