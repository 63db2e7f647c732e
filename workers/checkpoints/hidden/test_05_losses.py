"""Module 05 - Losses: hidden checks (graders only): smoothing, label forms, edges, errors."""

import numpy as np

from harness.checkpoints import assert_array, check
from harness.checkpoints.inputs import Cases, _sizes, extreme_rows, fixed, floats
from harness.checkpoints.public.test_05_losses import (IMPORT, binary_cross_entropy,
                                                      cross_entropy_cases)
from harness.checkpoints.recorded import assert_recorded

LOGITS = np.array([[1.0, -0.5, 2.0], [0.0, 0.3, -1.2]])


@check("losses.cross_entropy.label_smoothing", "CrossEntropyLoss(label_smoothing=0.1) spreads "
       "0.1 of the target evenly over the classes", "hidden")
def test_label_smoothing(student, rng):
    z = LOGITS - LOGITS.max(axis=1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    target = np.full_like(log_probs, 0.1 / 3)
    target[[0, 1], [2, 0]] += 0.9
    student.exec(f"{IMPORT}\nlogits = Tensor({LOGITS.tolist()})")
    assert_array(student.array("CrossEntropyLoss(label_smoothing=0.1)(logits, [2, 0])"),
                 -(target * log_probs).sum() / 2, what="the smoothed loss")
    logits = floats(rng, tuple(_sizes(rng, 2)), scale=2.0)
    cross_entropy_cases(rng, [(logits, 0.1)]).check(student)


def _label_forms(student, logits, labels):
    student.exec(f"{IMPORT}\nlogits = Tensor({logits.tolist()})\nloss = CrossEntropyLoss()")
    reference = student.array(f"loss(logits, {labels})")
    for form in (f"np.array({labels})", f"Tensor({[float(n) for n in labels]})",
                 f"np.array({[[n] for n in labels]})"):
        assert_array(student.array(f"loss(logits, {form})"), reference,
                     what=f"the loss with labels {form}")


@check("losses.cross_entropy.label_forms", "class ids may be a list, an int array or a "
       "float Tensor", "hidden")
def test_label_forms(student, rng):
    _label_forms(student, LOGITS, [1, 2])
    logits = floats(rng, tuple(_sizes(rng, 2)), scale=2.0)
    _label_forms(student, logits, rng.integers(logits.shape[1], size=len(logits)).tolist())


def _extremes(student, rows, classes, labels, width, confident):
    """Zero logits give log(classes); ``width`` logits, 50 at the label and 0 elsewhere, give
    about 0."""
    student.exec(f"{IMPORT}\nloss = CrossEntropyLoss()")
    assert_array(student.array(f"loss(Tensor(np.zeros(({rows}, {classes}))), {labels})"),
                 np.log(classes), what=f"the loss of all-zero logits over {classes} classes")
    logits = np.zeros(width)
    logits[confident] = 50.0
    assert_array(student.array(f"loss(Tensor([{logits.tolist()}]), [{confident}])"), 0.0,
                 atol=1e-6, what=f"the loss of logits {logits.tolist()} with label {confident}")


@check("losses.cross_entropy.extremes", "uniform logits give log(classes); a confident right "
       "answer gives about 0", "hidden")
def test_cross_entropy_extremes(student, rng):
    _extremes(student, 3, 10, [0, 5, 9], 3, 1)
    rows, classes = _sizes(rng, 2, low=2, high=30)
    _extremes(student, rows, classes, rng.integers(classes, size=rows).tolist(), classes,
              int(rng.integers(classes)))


def _bad_labels(student, logits, good, bad):
    student.exec(f"{IMPORT}\nlogits = Tensor({logits.tolist()})\nloss = CrossEntropyLoss()\n"
                 f"loss(logits, {good})")
    for labels in bad:
        student.raises(f"loss(logits, {labels})", "ValueError")


@check("losses.cross_entropy.bad_labels", "a class id outside [0, classes) or 1-D logits raise "
       "ValueError", "hidden")
def test_cross_entropy_bad_labels(student, rng):
    _bad_labels(student, LOGITS, [0, 2], ["[0, 3]", "[-1, 0]"])
    student.raises("loss(Tensor([1.0, 2.0, 3.0]), [0])", "ValueError")
    rows, classes = _sizes(rng, 2)
    good = rng.integers(classes, size=rows)
    high, low = good.copy(), good.copy()
    high[rng.integers(rows)] = classes + rng.integers(3)
    low[rng.integers(rows)] = -1 - rng.integers(3)
    _bad_labels(student, floats(rng, (rows, classes)), good.tolist(),
                [high.tolist(), low.tolist()])
    student.raises(f"loss(Tensor({floats(rng, classes).tolist()}), [0])", "ValueError")


def _bce_certain(student, p):
    """BinaryCrossEntropyLoss of probabilities 0 and 1 against themselves and their flip."""
    student.exec(f"{IMPORT}\nloss = BinaryCrossEntropyLoss()\n"
                 f"right = loss(Tensor({p.tolist()}), Tensor({p.tolist()}))\n"
                 f"wrong = loss(Tensor({(1 - p).tolist()}), Tensor({p.tolist()}))")
    right, wrong = student.array("right"), student.array("wrong")
    if not (np.isfinite(right) and 0 <= right < 1e-3):
        raise AssertionError(f"certain, correct predictions gave loss {right}, expected about 0")
    if not (np.isfinite(wrong) and wrong > 10):
        raise AssertionError(f"certain, wrong predictions gave loss {wrong}, expected a large "
                             "finite number (clip p away from 0 and 1)")


@check("losses.bce.clipped", "BinaryCrossEntropyLoss of probabilities exactly 0 and 1 stays "
       "finite", "hidden")
def test_bce_clipped(student, rng):
    _bce_certain(student, np.array([1.0, 0.0]))
    _bce_certain(student, rng.integers(2, size=tuple(_sizes(rng, 2))).astype(np.float64))


@check("losses.mse.float64", "MSELoss keeps float64 predictions in float64", "hidden")
def test_mse_float64(student, rng):
    p = np.array([1.0, 2.0, 3.0]) / 3
    student.exec(f"{IMPORT}\np = Tensor(np.array([1.0, 2.0, 3.0]) / 3, dtype=np.float64)")
    assert_array(student.array("MSELoss()(p, np.zeros(3))"), np.mean(p ** 2), dtype=np.float64,
                 rtol=1e-12, what="MSELoss()(p, zeros) for float64 p")
    cases = Cases(IMPORT)
    p = floats(rng, tuple(_sizes(rng, 2)), dtype=np.float64)
    cases.expect(f"MSELoss()({cases.tensor(p)}, np.zeros({p.shape}))", np.mean(p ** 2),
                 f"MSELoss()(p, zeros) for float64 p of shape {p.shape}")
    cases.check(student, dtype=np.float64, rtol=1e-12)


@check("losses.cross_entropy.stable_rows", "CrossEntropyLoss stays right when rows of logits "
       "sit near very different levels (-1000 to 1000), with and without smoothing", "hidden")
def test_cross_entropy_stable_rows(student, rng):
    for generator in (fixed(52), rng):
        batches = [(extreme_rows(generator, 6, 4), 0.0), (extreme_rows(generator, 5, 3), 0.1)]
        cross_entropy_cases(generator, batches).check(student, dtype=np.float32, rtol=1e-5,
                                                      atol=1e-5)


def bce(p, y, eps=1e-7):
    """Mean binary cross-entropy of float32 ``p`` clipped (in float32) into [eps, 1 - eps]."""
    return binary_cross_entropy(np.clip(p, eps, 1 - eps).astype(np.float64), y)


@check("losses.shapes.mse_bce", "MSELoss and BinaryCrossEntropyLoss average over every element "
       "of 1-D to 3-D inputs; BCE stays finite at p = 0 and 1", "hidden")
def test_mse_bce_shapes(student, rng):
    cases = Cases(IMPORT)
    for shape in ((5,), (1, 1), (4, 1), (3, 4), (2, 3, 2)):
        p, t = floats(rng, shape), floats(rng, shape)
        cases.expect(f"MSELoss()({cases.tensor(p)}, {cases.tensor(t)})",
                     np.mean((p.astype(np.float64) - t) ** 2), f"MSE of shape {shape}")
        y = rng.integers(2, size=shape).astype(np.float32)
        probs = rng.choice(np.array([0.0, 1e-9, 0.3, 0.8, 1.0], dtype=np.float32), size=shape)
        cases.expect(f"BinaryCrossEntropyLoss()({cases.tensor(probs)}, {cases.tensor(y)})",
                     bce(probs, y), f"BCE of shape {shape}, p from {{0, 1e-9, 0.3, 0.8, 1}}")
    cases.check(student, dtype=np.float32, rtol=1e-4, atol=1e-6)


@check("losses.graph.recorded", "each loss of a prediction that requires grad records itself for "
       "autograd: CrossEntropyLoss and BinaryCrossEntropyLoss as their own ops with what their "
       "docstrings say they save, MSELoss through tensor ops that lead back to the prediction",
       "hidden")
def test_losses_recorded(student, rng):
    logits, target = floats(rng, (4, 3), scale=3.0), floats(rng, (4, 3))
    p = rng.choice(np.array([0.0, 1e-9, 0.3, 0.8, 1.0], dtype=np.float32), size=(4, 3))
    y, labels = rng.integers(2, size=(4, 3)).astype(np.float32), rng.integers(3, size=4)
    setup = (f"{IMPORT}\nlogits = Tensor({logits.tolist()!r}, requires_grad=True)\n"
             f"p = Tensor({p.tolist()!r}, requires_grad=True)\n"
             f"y = Tensor({y.tolist()!r})\nt = Tensor({target.tolist()!r})\n"
             f"labels = np.array({labels.tolist()})")
    z = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    smoothed = np.full((4, 3), 0.1 / 3)
    smoothed[np.arange(4), labels] += 0.9
    eps = np.float32(1e-7)
    probes = [("_recorded(CrossEntropyLoss(label_smoothing=0.1)(logits, labels), "
               "{'logits': logits})", ["cross_entropy", ["logits"]], "CrossEntropyLoss"),
              ("_recorded(BinaryCrossEntropyLoss()(p, y), {'p': p})",
               ["binary_cross_entropy", ["p"]], "BinaryCrossEntropyLoss"),
              ("_reaches(MSELoss()(logits, t), {'logits': logits, 't': t})", ["logits"],
               "MSELoss (the leaves its graph leads back to)")]
    smoothed_loss = "CrossEntropyLoss(label_smoothing=0.1)(logits, labels)"
    probes += [(f"_saved({smoothed_loss}, ['probs'])[0]", np.exp(z) / np.exp(z).sum(axis=1,
                                                                                 keepdims=True),
                "the softmax probabilities CrossEntropyLoss saves"),
               (f"_saved({smoothed_loss}, ['target_dist'])[0]", smoothed,
                "the smoothed targets CrossEntropyLoss(label_smoothing=0.1) saves"),
               ("_saved(BinaryCrossEntropyLoss()(p, y), ['clipped'])[0]",
                np.clip(p, eps, 1 - eps).astype(np.float64),
                "the clipped probabilities BinaryCrossEntropyLoss saves (p = 0 and 1 included)"),
               ("_saved(BinaryCrossEntropyLoss()(p, y), ['target'])[0]", y.astype(np.float64),
                "the targets BinaryCrossEntropyLoss saves")]
    assert_recorded(student, setup, probes)


@check("losses.inputs.unchanged", "computing a loss leaves the prediction, the target and the "
       "labels as they were (no in-place shift or clip)", "hidden")
def test_inputs_unchanged(student, rng):
    cases = Cases(IMPORT)
    logits, labels = extreme_rows(rng, 4, 3), rng.integers(3, size=4)
    probs = rng.choice(np.array([0.0, 1e-9, 0.3, 0.8, 1.0], dtype=np.float32), size=(3, 2))
    y, target = rng.integers(2, size=(3, 2)).astype(np.float32), floats(rng, (3, 2))
    names = {"logits": cases.tensor(logits), "probs": cases.tensor(probs),
             "y": cases.tensor(y), "target": cases.tensor(target)}
    cases.run(f"label_ids = np.array({labels.tolist()})\n"
              f"_ = CrossEntropyLoss(label_smoothing=0.1)({names['logits']}, label_ids)\n"
              f"_ = BinaryCrossEntropyLoss()({names['probs']}, {names['y']})\n"
              f"_ = MSELoss()({names['probs']}, {names['target']})")
    for key, value in (("logits", logits), ("probs", probs), ("y", y), ("target", target)):
        cases.expect(names[key], value, f"{key} after computing the losses")
    cases.expect("label_ids", labels, "the labels after computing CrossEntropyLoss")
    cases.check(student, rtol=0, atol=0)
