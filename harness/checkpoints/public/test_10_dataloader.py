"""Module 10 - DataLoader: public checks (shipped to students with the starter).

Datasets are made from arrays sent from here; the batches come back as plain arrays and are
checked here: order, sizes, every item once per epoch, seeded determinism, transforms.  The
CIFAR-10 files are written into the runner's temporary directory by code from this file (a
fake ``cifar-10-batches-py`` whose pixels follow a formula known on both sides).
"""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check
from harness.checkpoints.public.test_13_attention import literal

IMPORT = ("from tinytorch.core.tensor import Tensor\n"
          "from tinytorch.core.dataloader import Dataset, TensorDataset, DataLoader, Compose, "
          "RandomCrop, RandomHorizontalFlip, Normalize, load_cifar10")
FEATURES = np.arange(30.0).reshape(10, 3) / 2
LABELS = np.arange(10) * 3 % 10


def dataset(n=10):
    """Runner code for ``ds``: n rows of 3 float features (row i starts at 1.5 i) and labels."""
    return (f"{IMPORT}\nds = TensorDataset({literal(np.arange(3.0 * n).reshape(n, 3) / 2)}, "
            f"{literal(np.arange(n) * 3 % 10)})\n")


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
def test_batches_in_order(student):
    student.exec(dataset() + "loader = DataLoader(ds, batch_size=4)")
    batches = epoch(student, "loader")
    assert_equal([len(b[0]) for b in batches], [4, 4, 2], what="the batch sizes")
    for k, (inputs, labels) in enumerate(batches):
        rows = slice(4 * k, 4 * k + 4)
        assert_array(inputs, FEATURES[rows], what=f"the inputs of batch {k}")
        assert_array(labels, LABELS[rows], what=f"the labels of batch {k}")
    assert_equal(student.eval("len(loader)"), 3, what="len(DataLoader(10 items, batch_size=4))")


@check("dataloader.batches.dtypes", "batches are Tensors: float inputs as float32, integer "
       "labels as int64", "public")
def test_batches_dtypes(student):
    student.exec(dataset() + "batch = next(iter(DataLoader(ds, batch_size=5)))\n"
                 "kinds = [type(t) is Tensor for t in batch]")
    assert_equal(student.eval("kinds"), [True, True], what="whether inputs and labels are Tensors")
    inputs, labels = student.eval("list(batch)")
    assert_array(inputs, FEATURES[:5], dtype=np.float32, what="the inputs of the first batch")
    assert_array(labels, LABELS[:5], dtype=np.int64, what="the labels of the first batch")


@check("dataloader.drop_last", "drop_last=True leaves out the last partial batch (and len() "
       "says so)", "public")
def test_drop_last(student):
    student.exec(dataset() + "loader = DataLoader(ds, batch_size=4, drop_last=True)")
    batches = epoch(student, "loader")
    assert_equal(rows_seen(batches), list(range(8)), what="the rows delivered with drop_last")
    assert_equal(student.eval("len(loader)"), 2, what="len(DataLoader(10 items, batch_size=4, "
                 "drop_last=True))")


@check("dataloader.shuffle.once_per_epoch", "with shuffle=True every item comes exactly once per "
       "epoch, with its own label, in a new order each epoch", "public")
def test_shuffle_once_per_epoch(student):
    student.exec(dataset(23) + "loader = DataLoader(ds, batch_size=5, shuffle=True, seed=0)")
    orders = []
    for number in (1, 2):
        batches = epoch(student, "loader")
        order = rows_seen(batches)
        assert_equal(sorted(order), list(range(23)), what=f"the sorted rows of epoch {number}")
        labels = [int(v) for b in batches for v in b[1]]
        assert_equal(labels, [i * 3 % 10 for i in order], what=f"the labels of epoch {number}")
        orders.append(order)
    if orders[0] == list(range(23)) or orders[0] == orders[1]:
        raise AssertionError(f"shuffle=True gave the orders {orders[0]} and {orders[1]}: each "
                             "epoch should draw a new random order")


@check("dataloader.shuffle.seeded", "two loaders with the same seed shuffle alike; another seed "
       "shuffles differently", "public")
def test_shuffle_seeded(student):
    student.exec(dataset(20) + "def order(seed):\n"
                 "    loader = DataLoader(ds, batch_size=6, shuffle=True, seed=seed)\n"
                 "    return [[list(b) for b in loader] for _ in range(2)]")
    first, again, other = (student.eval(f"order({seed})") for seed in (7, 7, 8))
    first, again, other = ([rows_seen(e) for e in epochs] for epochs in (first, again, other))
    assert_equal(again, first, what="two epochs of a second loader with seed=7")
    if other == first:
        raise AssertionError("seed=8 gave the same orders as seed=7")


@check("dataloader.dataset.generic", "DataLoader batches any Dataset with __len__ and "
       "__getitem__ by stacking its items", "public")
def test_generic_dataset(student):
    student.exec(f"{IMPORT}\nclass Squares(Dataset):\n    def __len__(self):\n        return 7\n"
                 "    def __getitem__(self, i):\n"
                 "        return np.array([i, i * i], dtype=np.float32), i % 3\n"
                 "batches = [list(b) for b in DataLoader(Squares(), batch_size=3)]")
    batches = epoch(student, "batches")
    assert_equal([len(b[0]) for b in batches], [3, 3, 1], what="the batch sizes")
    index = np.arange(7)
    assert_array(np.concatenate([b[0] for b in batches]), np.stack([index, index ** 2], 1),
                 what="the stacked inputs")
    assert_array(np.concatenate([b[1] for b in batches]), index % 3, what="the stacked labels")


IMAGES = (np.arange(2 * 3 * 4 * 5) * 37 % 256).astype(np.uint8).reshape(2, 3, 4, 5)
MEAN, STD = np.array([0.5, 0.4, 0.3]), np.array([0.2, 0.25, 0.3])


def normalized(batch):
    scale = 1 / 255 if batch.dtype == np.uint8 else 1.0
    return (batch * scale - MEAN.reshape(1, 3, 1, 1)) / STD.reshape(1, 3, 1, 1)


@check("dataloader.transforms.normalize", "Normalize(mean, std) scales uint8 images to [0, 1], "
       "then gives float32 (x - mean) / std per channel", "public")
def test_normalize(student):
    floats = IMAGES / 255.0
    student.exec(f"{IMPORT}\nnorm = Normalize({MEAN.tolist()}, {STD.tolist()})")
    assert_array(student.array(f"norm({literal(IMAGES)})"), normalized(IMAGES), dtype=np.float32,
                 rtol=1e-5, atol=1e-5, what="Normalize(mean, std)(uint8 images)")
    assert_array(student.array(f"norm({literal(floats)})"), normalized(floats), rtol=1e-5,
                 atol=1e-5, what="Normalize(mean, std)(float images in [0, 1])")


@check("dataloader.transforms.flip", "RandomHorizontalFlip(p=1) mirrors every image left-right; "
       "p=0 leaves them alone", "public")
def test_flip(student):
    student.exec(f"{IMPORT}\nimages = {literal(IMAGES)}\nrng = np.random.default_rng(0)")
    assert_array(student.array("RandomHorizontalFlip(1.0)(images, rng)"), IMAGES[..., ::-1],
                 what="RandomHorizontalFlip(1.0)(images)")
    assert_array(student.array("RandomHorizontalFlip(0.0)(images, rng)"), IMAGES,
                 what="RandomHorizontalFlip(0.0)(images)")
    assert_array(student.array("images"), IMAGES, what="the input images after flipping")


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
def test_crop(student):
    images = (np.arange(6 * 2 * 5 * 5) % 251 + 1).astype(np.uint8).reshape(6, 2, 5, 5)
    student.exec(f"{IMPORT}\nimages = {literal(images)}\nrng = np.random.default_rng(0)")
    assert_crops(student.array("RandomCrop(4, padding=2)(images, rng)"), images, 4, 2)
    assert_array(student.array("RandomCrop(5)(images, rng)"), images,
                 what="RandomCrop(5) of 5 x 5 images (no padding)")


@check("dataloader.loader.transform", "DataLoader(transform=...) transforms each batch's inputs "
       "and leaves the labels alone", "public")
def test_loader_transform(student):
    student.exec(f"{IMPORT}\nds = TensorDataset({literal(IMAGES)}, np.array([4, 7]))\n"
                 f"flip_norm = Compose([RandomHorizontalFlip(1.0), Normalize({MEAN.tolist()}, "
                 f"{STD.tolist()})])\nloader = DataLoader(ds, batch_size=2, transform=flip_norm)")
    ((inputs, labels),) = epoch(student, "loader")
    assert_array(inputs, normalized(IMAGES[..., ::-1]), dtype=np.float32, rtol=1e-5, atol=1e-5,
                 what="the inputs after Compose([RandomHorizontalFlip(1.0), Normalize(...)])")
    assert_array(labels, [4, 7], what="the labels")


# A fake CIFAR-10 (python version): 3 images per batch, pixel j of image i of batch k is
# (7 (3072 i + j) + 13 k) mod 256, labels (i + k) mod 10; batches 0-4 train, 5 test.
BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
WRITE_CIFAR = f"""import os, pickle, tempfile
root = tempfile.mkdtemp()
folder = os.path.join(root, "cifar-10-batches-py")
os.makedirs(folder)
for k, name in enumerate({BATCHES!r}):
    data = ((np.arange(3 * 3072).reshape(3, 3072) * 7 + 13 * k) % 256).astype(np.uint8)
    batch = {{b"batch_label": name.encode(), b"labels": [(i + k) % 10 for i in range(3)],
             b"data": data, b"filenames": [b"img%d.png" % i for i in range(3)]}}
    with open(os.path.join(folder, name), "wb") as f:
        pickle.dump(batch, f, protocol=2)
"""


def cifar_split(split):
    """The images and labels the fake files hold for ``split``, made here."""
    ks = range(5) if split == "train" else [5]
    images = [((np.arange(3 * 3072).reshape(3, 3072) * 7 + 13 * k) % 256) for k in ks]
    labels = [[(i + k) % 10 for i in range(3)] for k in ks]
    return (np.concatenate(images).astype(np.uint8).reshape(-1, 3, 32, 32),
            np.concatenate(labels))


def assert_cifar(student, call, split):
    images, labels = cifar_split(split)
    student.exec(f"images, labels = {call}")
    assert_array(student.array("images"), images, dtype=np.uint8, what=f"the images of {call}")
    assert_array(student.array("labels"), labels, dtype=np.int64, what=f"the labels of {call}")


@check("dataloader.cifar.python_batches", "load_cifar10 reads the train and test batches of "
       "cifar-10-batches-py as uint8 (N, 3, 32, 32) images and int64 labels", "public")
def test_cifar_python_batches(student):
    student.exec(f"{IMPORT}\n{WRITE_CIFAR}")
    assert_cifar(student, "load_cifar10(root, 'train')", "train")
    assert_cifar(student, "load_cifar10(root, 'test')", "test")


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
