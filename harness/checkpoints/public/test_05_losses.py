"""Module 05 - Losses: public checks (shipped to students with the starter).

Forward values only, compared here with NumPy in float64; the losses' gradients are module
07's.  A loss is a scalar: its ``.data`` must have shape ().
"""

import numpy as np

from harness.checkpoints import assert_array, check
from harness.checkpoints.inputs import Cases, _sizes, extreme_rows, fixed, floats, literal

IMPORT = ("from tinytorch.core.tensor import Tensor\n"
          "from tinytorch.core.losses import MSELoss, CrossEntropyLoss, BinaryCrossEntropyLoss")
LOGITS = np.array([[2.0, -1.0, 0.5, 0.0, 1.0], [0.1, 0.2, 0.3, 0.4, 0.5],
                   [-2.0, 3.0, 1.0, -1.0, 0.0], [1.0, 1.0, 1.0, 1.0, 4.0]])
LABELS = [0, 3, 1, 4]


def cross_entropy(logits, labels):
    z = logits - logits.max(axis=1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(labels)), labels].mean()


@check("losses.mse.value", "MSELoss gives the mean of the squared differences as a scalar",
       "public")
def test_mse_value(student, rng):
    prediction, target = LOGITS[:, :3], LOGITS[:, 2:]
    student.exec(f"{IMPORT}\np = Tensor({prediction.tolist()})\nt = Tensor({target.tolist()})")
    assert_array(student.array("MSELoss()(p, t)"), np.mean((prediction - target) ** 2),
                 dtype=np.float32, what="MSELoss()(p, t)")
    cases = Cases(IMPORT)
    shape = tuple(_sizes(rng, 2))
    prediction, target = floats(rng, shape), floats(rng, shape)
    cases.expect(f"MSELoss()({cases.tensor(prediction)}, {cases.tensor(target)})",
                 np.mean((prediction.astype(np.float64) - target) ** 2),
                 f"MSELoss()(p, t) for p and t of shape {shape}")
    cases.check(student, dtype=np.float32)


@check("losses.mse.shape_mismatch", "MSELoss with a (4, 3) prediction and a (4, 1) target "
       "raises ValueError", "public")
def test_mse_shape_mismatch(student, rng):
    student.exec(f"{IMPORT}\np = Tensor(np.ones((4, 3)))\nMSELoss()(p, Tensor(np.zeros((4, 3))))")
    student.raises("MSELoss()(p, Tensor(np.zeros((4, 1))))", "ValueError")
    rows, cols = _sizes(rng, 2)
    student.exec(f"{IMPORT}\np = Tensor({literal(floats(rng, (rows, cols)))})\n"
                 f"MSELoss()(p, Tensor({literal(floats(rng, (rows, cols)))}))")
    wrong = [(rows, 1), (rows, cols + 1), (1, cols), (cols, rows)][int(rng.integers(4))]
    student.raises(f"MSELoss()(p, Tensor(np.zeros({wrong})))", "ValueError")


@check("losses.cross_entropy.value", "CrossEntropyLoss on logits and class ids is the mean "
       "of -log softmax at the label", "public")
def test_cross_entropy_value(student, rng):
    student.exec(f"{IMPORT}\nlogits = Tensor({LOGITS.tolist()})")
    assert_array(student.array(f"CrossEntropyLoss()(logits, np.array({LABELS}))"),
                 cross_entropy(LOGITS, LABELS), dtype=np.float32,
                 what="CrossEntropyLoss()(logits, labels)")
    logits = floats(rng, tuple(_sizes(rng, 2)), scale=2.0)
    cross_entropy_cases(rng, [(logits, 0.0)]).check(student, dtype=np.float32)


@check("losses.cross_entropy.stable", "CrossEntropyLoss stays finite and right for logits "
       "like 1000 (log-sum-exp)", "public")
def test_cross_entropy_stable(student, rng):
    logits = np.array([[1000.0, 0.0, -1000.0], [500.0, 1000.0, 999.0]])
    student.exec(f"{IMPORT}\nlogits = Tensor({logits.tolist()})")
    assert_array(student.array("CrossEntropyLoss()(logits, [2, 1])"),
                 cross_entropy(logits, [2, 1]), rtol=1e-5,
                 what="CrossEntropyLoss()(logits, [2, 1]) with logits up to 1000")
    cross_entropy_cases(rng, [(extreme_rows(rng, 5, 4), 0.0)]).check(student, rtol=1e-5)


def binary_cross_entropy(p, y):
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


@check("losses.bce.value", "BinaryCrossEntropyLoss is -mean(y log p + (1 - y) log(1 - p))",
       "public")
def test_bce_value(student, rng):
    p, y = np.array([[0.9, 0.2], [0.6, 0.05]]), np.array([[1.0, 0.0], [0.0, 1.0]])
    student.exec(f"{IMPORT}\np = Tensor({p.tolist()})\ny = Tensor({y.tolist()})")
    assert_array(student.array("BinaryCrossEntropyLoss()(p, y)"), binary_cross_entropy(p, y),
                 dtype=np.float32, what="BinaryCrossEntropyLoss()(p, y)")
    cases = Cases(IMPORT)
    shape = tuple(_sizes(rng, 2))
    p = rng.uniform(0.02, 0.98, size=shape).astype(np.float32)
    y = rng.integers(2, size=shape).astype(np.float32)
    cases.expect(f"BinaryCrossEntropyLoss()({cases.tensor(p)}, {cases.tensor(y)})",
                 binary_cross_entropy(p.astype(np.float64), y),
                 f"BinaryCrossEntropyLoss()(p, y) for p of shape {shape}")
    cases.check(student, dtype=np.float32)


def smoothed_cross_entropy(logits, labels, smoothing=0.0):
    """Mean cross-entropy against one-hot targets with ``smoothing`` spread over all classes."""
    z = logits - logits.max(axis=1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    target = np.full_like(log_probs, smoothing / logits.shape[1])
    target[np.arange(len(labels)), labels] += 1 - smoothing
    return -(target * log_probs).sum() / len(labels)


def cross_entropy_cases(rng, batches):
    """Cases of CrossEntropyLoss(label_smoothing=s)(logits, labels) for each (logits, s), with
    labels drawn from ``rng``."""
    cases = Cases(IMPORT)
    for logits, smoothing in batches:
        labels = rng.integers(logits.shape[1], size=len(logits))
        cases.expect(f"CrossEntropyLoss(label_smoothing={smoothing})({cases.tensor(logits)}, "
                     f"np.array({labels.tolist()}))",
                     smoothed_cross_entropy(logits.astype(np.float64), labels, smoothing),
                     f"logits of shape {logits.shape}, labels {labels.tolist()}")
    return cases


@check("losses.cross_entropy.shapes", "CrossEntropyLoss is right for a batch of 1, 2 classes, "
       "many classes, and several label_smoothing values", "public")
def test_cross_entropy_shapes(student, rng):
    for generator in (fixed(51), rng):
        smoothings = [0.0, 0.0, round(float(generator.uniform(0.05, 0.3)), 3), 0.2]
        batches = [(floats(generator, shape, scale=3.0), smoothing)
                   for shape, smoothing in zip([(1, 4), (3, 2), (7, 11), (5, 3)], smoothings)]
        cross_entropy_cases(generator, batches).check(student, dtype=np.float32, rtol=1e-5,
                                                      atol=1e-6)
