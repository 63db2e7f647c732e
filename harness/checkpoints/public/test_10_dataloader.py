"""Module 10 - DataLoader: public checks (shipped to students with the starter).

Datasets are made from arrays sent from here; the batches come back as plain arrays and are
checked here: order, sizes, every item once per epoch, seeded determinism, transforms.  The
CIFAR-10 files are written into the runner's temporary directory by code from this file (a
fake ``cifar-10-batches-py`` whose pixels follow a formula known on both sides).
"""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check
from harness.checkpoints.inputs import literal

IMPORT = ("from tinytorch.core.tensor import Tensor\n"
          "from tinytorch.core.dataloader import Dataset, TensorDataset, DataLoader, Compose, "
          "RandomCrop, RandomHorizontalFlip, Normalize, load_cifar10")
def items(n):
    """The features (row i: 1.5 i, 1.5 i + 0.5, 1.5 i + 1) and labels of ``dataset(n)``."""
    return np.arange(3.0 * n).reshape(n, 3) / 2, np.arange(n) * 3 % 10


FEATURES, LABELS = items(10)


def dataset(n=10):
    """Runner code for ``ds``: n rows of 3 float features (row i starts at 1.5 i) and labels."""
    return f"{IMPORT}\nds = TensorDataset(" + ", ".join(map(literal, items(n))) + ")\n"


def loader_case(rng):
    """A job's own dataset size (5-29) and batch size (2-7) that leave a partial batch."""
    batch_size = int(rng.integers(2, 8))
    return batch_size * int(rng.integers(2, 4)) + int(rng.integers(1, batch_size)), batch_size


def epoch(student, loader):
    """The batches of one pass over ``loader`` (runner code), as lists of arrays."""
    batches = student.eval(f"[list(b) for b in {loader}]")
    if type(batches) is not list or not all(type(b) is list and len(b) == 2 and
                                            all(type(a) is np.ndarray for a in b)
                                            for b in batches):
        raise AssertionError(f"iterating {loader} should give (inputs, labels) Tensor pairs")
    return batches


def rows_seen(batches):
    """Which dataset rows an epoch delivered, in order (feature row i starts at 1.5 i)."""
    return [int(round(v)) for b in batches for v in b[0][:, 0] / 1.5]


@check("dataloader.batches.in_order", "DataLoader(ds, batch_size=4) gives batches of 4, 4 and a "
       "last partial batch of 2, in order; len() is 3", "public")
def test_batches_in_order(student, rng):
    for n, size in ((10, 4), loader_case(rng)):
        student.exec(dataset(n) + f"loader = DataLoader(ds, batch_size={size})")
        batches = epoch(student, "loader")
        assert_equal([len(b[0]) for b in batches], [size] * (n // size) + [n % size],
                     what=f"the batch sizes for {n} items and batch_size={size}")
        features, labels_of = items(n)
        for k, (inputs, labels) in enumerate(batches):
            rows = slice(size * k, size * k + size)
            assert_array(inputs, features[rows], what=f"the inputs of batch {k}")
            assert_array(labels, labels_of[rows], what=f"the labels of batch {k}")
        assert_equal(student.eval("len(loader)"), n // size + 1,
                     what=f"len(DataLoader({n} items, batch_size={size}))")


@check("dataloader.batches.dtypes", "batches are Tensors: float inputs as float32, integer "
       "labels as int64", "public")
def test_batches_dtypes(student, rng):
    for n, size in ((10, 5), loader_case(rng)):
        student.exec(dataset(n) + f"batch = next(iter(DataLoader(ds, batch_size={size})))\n"
                     "kinds = [type(t) is Tensor for t in batch]")
        assert_equal(student.eval("kinds"), [True, True],
                     what="whether inputs and labels are Tensors")
        inputs, labels = student.eval("list(batch)")
        features, labels_of = items(n)
        assert_array(inputs, features[:size], dtype=np.float32,
                     what=f"the inputs of the first batch of {size}")
        assert_array(labels, labels_of[:size], dtype=np.int64,
                     what=f"the labels of the first batch of {size}")


@check("dataloader.drop_last", "drop_last=True leaves out the last partial batch (and len() "
       "says so)", "public")
def test_drop_last(student, rng):
    for n, size in ((10, 4), loader_case(rng)):
        student.exec(dataset(n) + f"loader = DataLoader(ds, batch_size={size}, drop_last=True)")
        batches = epoch(student, "loader")
        assert_equal(rows_seen(batches), list(range(n - n % size)),
                     what=f"the rows delivered with drop_last ({n} items, batch_size={size})")
        assert_equal(student.eval("len(loader)"), n // size, what=f"len(DataLoader({n} items, "
                     f"batch_size={size}, drop_last=True))")


@check("dataloader.shuffle.once_per_epoch", "with shuffle=True every item comes exactly once per "
       "epoch, with its own label, in a new order each epoch", "public")
def test_shuffle_once_per_epoch(student, rng):
    n, size = loader_case(rng)   # 12 more items: two orders drawn alike mean a fixed order
    for n, size, seed in ((23, 5, 0), (n + 12, size, int(rng.integers(10**6)))):
        student.exec(dataset(n) + f"loader = DataLoader(ds, batch_size={size}, shuffle=True, "
                     f"seed={seed})")
        assert_shuffled_epochs(student, n)


def assert_shuffled_epochs(student, n):
    """Two epochs of ``loader`` over ``dataset(n)``: every item once, with its label, in new
    orders."""
    orders = []
    for number in (1, 2):
        batches = epoch(student, "loader")
        order = rows_seen(batches)
        assert_equal(sorted(order), list(range(n)), what=f"the sorted rows of epoch {number}")
        labels = [int(v) for b in batches for v in b[1]]
        assert_equal(labels, [i * 3 % 10 for i in order], what=f"the labels of epoch {number}")
        orders.append(order)
    if orders[0] == list(range(n)) or orders[0] == orders[1]:
        raise AssertionError(f"shuffle=True gave the orders {orders[0]} and {orders[1]}: each "
                             "epoch should draw a new random order")


@check("dataloader.shuffle.seeded", "two loaders with the same seed shuffle alike; another seed "
       "shuffles differently", "public")
def test_shuffle_seeded(student, rng):
    n, size = loader_case(rng)
    seeds = [int(s) for s in rng.choice(10**6, size=2, replace=False)]
    for n, size, (seed, another) in ((20, 6, (7, 8)), (n + 12, size, seeds)):
        student.exec(dataset(n) + "def order(seed):\n"
                     f"    loader = DataLoader(ds, batch_size={size}, shuffle=True, seed=seed)\n"
                     "    return [[list(b) for b in loader] for _ in range(2)]")
        first, again, other = (student.eval(f"order({s})") for s in (seed, seed, another))
        first, again, other = ([rows_seen(e) for e in epochs] for epochs in (first, again, other))
        assert_equal(again, first, what=f"two epochs of a second loader with seed={seed}")
        assert_equal(sorted(first[0]), list(range(n)), what=f"the sorted rows of an epoch of {n}")
        if other == first:
            raise AssertionError(f"seed={another} gave the same orders as seed={seed}")


@check("dataloader.dataset.generic", "DataLoader batches any Dataset with __len__ and "
       "__getitem__ by stacking its items", "public")
def test_generic_dataset(student, rng):
    for (n, size), classes in (((7, 3), 3), (loader_case(rng), int(rng.integers(2, 10)))):
        student.exec(f"{IMPORT}\nclass Squares(Dataset):\n    def __len__(self):\n"
                     f"        return {n}\n    def __getitem__(self, i):\n"
                     f"        return np.array([i, i * i], dtype=np.float32), i % {classes}\n"
                     f"batches = [list(b) for b in DataLoader(Squares(), batch_size={size})]")
        batches = epoch(student, "batches")
        assert_equal([len(b[0]) for b in batches], [size] * (n // size) + [n % size],
                     what=f"the batch sizes for {n} items and batch_size={size}")
        index = np.arange(n)
        assert_array(np.concatenate([b[0] for b in batches]), np.stack([index, index ** 2], 1),
                     what="the stacked inputs")
        assert_array(np.concatenate([b[1] for b in batches]), index % classes,
                     what="the stacked labels")


IMAGES = (np.arange(2 * 3 * 4 * 5) * 37 % 256).astype(np.uint8).reshape(2, 3, 4, 5)
MEAN, STD = np.array([0.5, 0.4, 0.3]), np.array([0.2, 0.25, 0.3])


def normalized(batch, mean=MEAN, std=STD):
    scale = 1 / 255 if batch.dtype == np.uint8 else 1.0
    return (batch * scale - mean.reshape(1, -1, 1, 1)) / std.reshape(1, -1, 1, 1)


def image_case(rng):
    """A job's own uint8 batch (1-4 images, 3 channels, 3-7 pixels a side), channel means and
    standard deviations."""
    shape = (int(rng.integers(1, 5)), 3, *(int(v) for v in rng.integers(3, 8, size=2)))
    return (rng.integers(0, 256, shape).astype(np.uint8), rng.uniform(0.2, 0.8, 3).round(3),
            rng.uniform(0.1, 0.5, 3).round(3))


@check("dataloader.transforms.normalize", "Normalize(mean, std) scales uint8 images to [0, 1], "
       "then gives float32 (x - mean) / std per channel", "public")
def test_normalize(student, rng):
    for images, mean, std in ((IMAGES, MEAN, STD), image_case(rng)):
        floats = images / 255.0
        student.exec(f"{IMPORT}\nnorm = Normalize({mean.tolist()}, {std.tolist()})")
        assert_array(student.array(f"norm({literal(images)})"), normalized(images, mean, std),
                     dtype=np.float32, rtol=1e-5, atol=1e-5,
                     what=f"Normalize({mean.tolist()}, {std.tolist()})(uint8 images)")
        assert_array(student.array(f"norm({literal(floats)})"), normalized(floats, mean, std),
                     rtol=1e-5, atol=1e-5, what=f"Normalize({mean.tolist()}, {std.tolist()})"
                     "(float images in [0, 1])")


@check("dataloader.transforms.flip", "RandomHorizontalFlip(p=1) mirrors every image left-right; "
       "p=0 leaves them alone", "public")
def test_flip(student, rng):
    for images in (IMAGES, image_case(rng)[0]):
        student.exec(f"{IMPORT}\nimages = {literal(images)}\nrng = np.random.default_rng(0)")
        assert_array(student.array("RandomHorizontalFlip(1.0)(images, rng)"), images[..., ::-1],
                     what=f"RandomHorizontalFlip(1.0)(images of shape {images.shape})")
        assert_array(student.array("RandomHorizontalFlip(0.0)(images, rng)"), images,
                     what=f"RandomHorizontalFlip(0.0)(images of shape {images.shape})")
        assert_array(student.array("images"), images, what="the input images after flipping")


def assert_crops(crops, images, size, padding):
    """Each crop must be a size x size window of its zero-padded image; returns the offsets."""
    padded = np.pad(images, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    assert_equal(list(getattr(crops, "shape", ())), [len(images), images.shape[1], size, size],
                 what=f"the shape of RandomCrop({size}, padding={padding})(images)")
    offsets = []
    for k, (crop, image) in enumerate(zip(crops, padded)):
        found = [(t, left) for t in range(image.shape[1] - size + 1)
                 for left in range(image.shape[2] - size + 1)
                 if np.array_equal(image[:, t:t + size, left:left + size], crop)]
        if not found:
            raise AssertionError(f"crop {k} is not a {size} x {size} window of its image padded "
                                 f"by {padding}:\n{crop}")
        offsets.append(found[0])
    return offsets


@check("dataloader.transforms.crop", "RandomCrop(size, padding) cuts a size x size window out of "
       "each zero-padded image", "public")
def test_crop(student, rng):
    side = int(rng.integers(4, 8))
    for images, size, padding, seed in (
            ((np.arange(6 * 2 * 5 * 5) % 251 + 1).astype(np.uint8).reshape(6, 2, 5, 5), 4, 2, 0),
            (rng.integers(1, 256, (6, 2, side, side)).astype(np.uint8), int(rng.integers(2, side)),
             int(rng.integers(1, 4)), int(rng.integers(1000)))):
        side = images.shape[-1]
        student.exec(f"{IMPORT}\nimages = {literal(images)}\nrng = np.random.default_rng({seed})")
        assert_crops(student.array(f"RandomCrop({size}, padding={padding})(images, rng)"),
                     images, size, padding)
        assert_array(student.array(f"RandomCrop({side})(images, rng)"), images,
                     what=f"RandomCrop({side}) of {side} x {side} images (no padding)")


@check("dataloader.loader.transform", "DataLoader(transform=...) transforms each batch's inputs "
       "and leaves the labels alone", "public")
def test_loader_transform(student, rng):
    images, mean, std = image_case(rng)
    for images, labels_of, mean, std in ((IMAGES, np.array([4, 7]), MEAN, STD),
                                         (images, rng.integers(10, size=len(images)), mean, std)):
        student.exec(f"{IMPORT}\nds = TensorDataset({literal(images)}, "
                     f"np.array({labels_of.tolist()}))\n"
                     f"flip_norm = Compose([RandomHorizontalFlip(1.0), Normalize({mean.tolist()}, "
                     f"{std.tolist()})])\nloader = DataLoader(ds, batch_size={len(images)}, "
                     "transform=flip_norm)")
        ((inputs, labels),) = epoch(student, "loader")
        assert_array(inputs, normalized(images[..., ::-1], mean, std), dtype=np.float32,
                     rtol=1e-5, atol=1e-5, what="the inputs after Compose(["
                     f"RandomHorizontalFlip(1.0), Normalize({mean.tolist()}, {std.tolist()})])")
        assert_array(labels, labels_of, what="the labels")


# A fake CIFAR-10 (python version): 3 images per batch, pixel j of image i of batch k is
# (step (3072 i + j) + shift k) mod 256, labels (i + k) mod 10; batches 0-4 train, 5 test.
# The fixed files have step 7 and shift 13; a job's own (``cifar_formula``) have others.
BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def write_cifar(step=7, shift=13):
    """Runner code writing the fake files into ``folder`` (under ``root``)."""
    return f"""import os, pickle, tempfile
root = tempfile.mkdtemp()
folder = os.path.join(root, "cifar-10-batches-py")
os.makedirs(folder)
for k, name in enumerate({BATCHES!r}):
    data = ((np.arange(3 * 3072).reshape(3, 3072) * {step} + {shift} * k) % 256).astype(np.uint8)
    batch = {{b"batch_label": name.encode(), b"labels": [(i + k) % 10 for i in range(3)],
             b"data": data, b"filenames": [b"img%d.png" % i for i in range(3)]}}
    with open(os.path.join(folder, name), "wb") as f:
        pickle.dump(batch, f, protocol=2)
"""



def cifar_formula(rng):
    """A job's own (step, shift) for ``write_cifar``: odd steps, so the pixels vary."""
    return int(rng.integers(1, 128)) * 2 + 1, int(rng.integers(1, 256))


def cifar_split(split, step=7, shift=13):
    """The images and labels the fake files hold for ``split``, made here."""
    ks = range(5) if split == "train" else [5]
    images = [((np.arange(3 * 3072).reshape(3, 3072) * step + shift * k) % 256) for k in ks]
    labels = [[(i + k) % 10 for i in range(3)] for k in ks]
    return (np.concatenate(images).astype(np.uint8).reshape(-1, 3, 32, 32),
            np.concatenate(labels))


def assert_cifar(student, call, split, formula=(7, 13)):
    images, labels = cifar_split(split, *formula)
    student.exec(f"images, labels = {call}")
    assert_array(student.array("images"), images, dtype=np.uint8, what=f"the images of {call}")
    assert_array(student.array("labels"), labels, dtype=np.int64, what=f"the labels of {call}")


@check("dataloader.cifar.python_batches", "load_cifar10 reads the train and test batches of "
       "cifar-10-batches-py as uint8 (N, 3, 32, 32) images and int64 labels", "public")
def test_cifar_python_batches(student, rng):
    for formula in ((7, 13), cifar_formula(rng)):
        student.exec(f"{IMPORT}\n{write_cifar(*formula)}")
        assert_cifar(student, "load_cifar10(root, 'train')", "train", formula)
        assert_cifar(student, "load_cifar10(root, 'test')", "test", formula)


@check("dataloader.batches.sizes", "DataLoader batches exactly for one item, batch_size 1, a "
       "batch_size dividing the dataset, and three arrays of any shape", "public")
def test_batches_sizes(student, rng):
    for n, batch_size, drop_last in ((1, 1, False), (1, 3, False), (6, 1, True), (6, 3, True),
                                     (int(rng.integers(2, 20)), int(rng.integers(2, 6)),
                                      bool(rng.integers(2)))):
        arrays = [rng.normal(size=(n, 2, 3)), rng.integers(0, 9, n), rng.normal(size=(n, 1))]
        student.exec(f"{IMPORT}\nds = TensorDataset(" + ", ".join(map(literal, arrays)) +
                     f")\nloader = DataLoader(ds, batch_size={batch_size}, drop_last={drop_last})\n"
                     "batches = [list(b) for b in loader]")
        setup = f"{n} items, batch_size={batch_size}, drop_last={drop_last}"
        count = n // batch_size if drop_last else -(-n // batch_size)
        assert_equal(student.eval("[len(b) for b in batches]"), [3] * count,
                     what=f"the number of arrays in each batch ({setup})")
        assert_equal(student.eval("len(loader)"), count, what=f"len(loader) for {setup}")
        for k in range(count):
            rows = slice(k * batch_size, (k + 1) * batch_size)
            for i, array in enumerate(arrays):
                assert_array(student.array(f"batches[{k}][{i}]"), array[rows],
                             what=f"array {i} of batch {k} ({setup})")
