"""Module 08 - Training: hidden checks (graders only): checkpoint safety, schedules, clipping,
evaluation and a small end-to-end run."""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check
from harness.checkpoints.inputs import fixed, floats, literal
from harness.checkpoints.public.test_08_training import (
    IMPORT, LINEAR_SGD, X, Y, batches, regression_data, weights)


def trained(x=X, y=Y):
    """Runner code for ``trainer`` after one epoch on ``x`` and ``y``."""
    return (f"{IMPORT}\nimport os, tempfile\n{LINEAR_SGD}"
            f"trainer.train_epoch({batches(slice(None), x=x, y=y)})\n")


def setups(rng, name):
    """The fixed setup (X, Y and the file ``name``), then the job's own: a trainer on its own
    data and a file name the folder listings must give back."""
    return ((trained(), name),
            (trained(*regression_data(rng)), f"{name[:-4]}_{int(rng.integers(10**6))}.npz"))


@check("training.checkpoint.atomic", "a save that fails half-way leaves the previous "
       "checkpoint intact and no stray files", "hidden")
def test_checkpoint_atomic(student, rng):
    for setup, name in setups(rng, "run.npz"):
        assert_save_atomic(student, setup, name)


def assert_save_atomic(student, setup, name):
    """After ``setup``, a save to ``name`` that fails half-way must leave the previous
    checkpoint loadable and no other file."""
    student.exec(f"{setup}folder = tempfile.mkdtemp()\n"
                 f"path = os.path.join(folder, {name!r})\n"
                 "trainer.save_checkpoint(path)\nsaved = [p.data.copy() for p in "
                 "model.parameters()]\ntrainer.train_epoch(" + batches(slice(None)) + ")\n"
                 "real = (np.savez, np.savez_compressed)\n"
                 "def broken(file, *args, **kwargs):\n"
                 "    (open(file, 'wb') if isinstance(file, (str, os.PathLike)) else file)"
                 ".write(b'half a checkpoint')\n    raise OSError('disk full')\n"
                 "np.savez = np.savez_compressed = broken\ntry:\n"
                 "    trainer.save_checkpoint(path)\n    interrupted = False\n"
                 "except OSError:\n    interrupted = True\nfinally:\n"
                 "    np.savez, np.savez_compressed = real")
    assert_equal(student.eval("interrupted"), True,
                 what="whether the injected write failure reached save_checkpoint")
    assert_equal(student.eval("sorted(os.listdir(folder))"), [name],
                 what="the files in the checkpoint folder after the failed save")
    student.exec("try:\n    trainer.load_checkpoint(path)\n    unreadable = None\n"
                 "except Exception as error:\n    unreadable = repr(error)")
    unreadable = student.eval("unreadable")
    if unreadable is not None:
        raise AssertionError("after a save failed half-way, the previous checkpoint no longer "
                             f"loads ({unreadable[:300]}): write to a temporary file, then "
                             "rename it over the old one")
    for index, name in enumerate(("weight", "bias")):
        assert_array(student.array(f"model.{name}"), student.array(f"saved[{index}]"), rtol=0,
                     atol=0, what=f"the {name} loaded from the checkpoint the failed save left")


@check("training.checkpoint.refuses_pickle", "load_checkpoint refuses a file with pickled "
       "objects and never runs their code", "hidden")
def test_checkpoint_refuses_pickle(student, rng):
    for (setup, name), flag in zip(setups(rng, "x.npz"),
                                   ("PWNED", f"PWNED_{int(rng.integers(10**6))}")):
        student.exec(f"{setup}import builtins\n"
                     f"path = os.path.join(tempfile.mkdtemp(), {name!r})\n"
                     "trainer.save_checkpoint(path)\ntrainer.load_checkpoint(path)\n"
                     "class Boom:\n    def __reduce__(self):\n"
                     f"        return (exec, ('import builtins; builtins.{flag} = True',))\n"
                     "np.savez(path, **{'meta.json': np.array([Boom()], dtype=object)})")
        student.raises("trainer.load_checkpoint(path)", "ValueError")
        assert_equal(student.eval(f"hasattr(builtins, {flag!r})"), False,
                     what="whether loading ran code from the file")


@check("training.scheduler.interval", "the schedule steps after every batch by default, or "
       "once per epoch with scheduler_interval='epoch'", "hidden")
def test_scheduler_interval(student, rng):
    x, y = regression_data(rng)
    rates = (round(float(v), 3) for v in rng.uniform(0.05, 0.9, size=2))
    for data, count, (lr, gamma) in (
            (batches(slice(0, 1), slice(1, 2), slice(2, 4)), 3, (0.1, 0.5)),
            (batches(*(slice(i, i + 1) for i in range(len(x))), x=x, y=y), len(x), rates)):
        student.exec(f"{IMPORT}\nresults = []\nfor interval in ('batch', 'epoch'):\n"
                     f"    model = Linear(3, 1)\n    opt = SGD(model.parameters(), lr={lr})\n"
                     f"    trainer = Trainer(model, opt, MSELoss(), StepLR(opt, 1, gamma={gamma}), "
                     "scheduler_interval=interval)\n"
                     f"    trainer.train_epoch({data})\n    results.append(trainer.history['lr'])")
        assert_array(np.array(student.eval("results")), [[lr * gamma ** count], [lr * gamma]],
                     what=f"history['lr'] after one epoch of {count} batches (lr {lr}, gamma "
                     f"{gamma}), per batch and per epoch")


@check("training.grad_clip.applied", "Trainer(grad_clip_norm=0.001) clips before the step: "
       "the weights move by exactly lr * 0.001", "hidden")
def test_grad_clip_applied(student, rng):
    for (x, y), lr in (((X, Y), 0.1), (regression_data(rng), round(rng.uniform(0.05, 0.5), 3))):
        student.exec(f"{IMPORT}\n{LINEAR_SGD.replace('lr=0.1', f'lr={lr}')}"
                     "trainer.grad_clip_norm = 0.001")
        weight, bias = weights(student)
        student.exec(f"trainer.train_epoch({batches(slice(None), x=x, y=y)})")
        moved = np.sqrt(np.sum((student.array("model.weight") - weight) ** 2)
                        + np.sum((student.array("model.bias") - bias) ** 2))
        assert_array(np.array(moved), lr * 0.001, rtol=1e-3,
                     what=f"how far the parameters moved (lr {lr} times the clipped norm)")


@check("training.clip_grad_norm.below_max", "clip_grad_norm leaves gradients under max_norm "
       "alone and returns their norm", "hidden")
def test_clip_below_max(student, rng):
    grad = floats(rng, int(rng.integers(2, 8)))
    norm = float(np.linalg.norm(grad.astype(np.float64)))
    for grad, norm, max_norm in ((np.array([0.3, 0.4], dtype=np.float32), 0.5, 1.0),
                                 (grad, norm, round(norm * float(rng.uniform(1.05, 3.0)), 4))):
        student.exec(f"{IMPORT}\na = Tensor(np.zeros({grad.shape}), requires_grad=True)\n"
                     f"a.grad = {literal(grad)}\nnorm = clip_grad_norm([a], {max_norm})")
        assert_array(np.array(student.eval("float(norm)")), norm, what="the returned norm")
        assert_array(student.array("a.grad"), grad,
                     what=f"a.grad (norm {norm:.4f}, already under max_norm {max_norm})")


@check("training.evaluate.metrics", "evaluate() returns the batch-weighted loss and accuracy "
       "and changes no weights", "hidden")
def test_evaluate_metrics(student, rng):
    x, _ = regression_data(rng)
    for x, labels, split in ((X, np.array([0, 1, 1, 0]), 3),
                             (x, rng.integers(2, size=len(x)), int(rng.integers(1, len(x))))):
        student.exec(f"{IMPORT}\nmanual_seed(2)\nmodel = Linear(3, 2)\n"
                     "trainer = Trainer(model, SGD(model.parameters(), lr=0.1), "
                     f"CrossEntropyLoss())\nx = np.array({x.tolist()})\n"
                     f"labels = np.array({labels.tolist()})\n"
                     "before = [p.data.copy() for p in model.parameters()]\n"
                     f"loss, acc = trainer.evaluate([(x[:{split}], labels[:{split}]), "
                     f"(x[{split}:], labels[{split}:])])")
        weight, bias = weights(student)
        assert_array(np.concatenate([weight.ravel(), bias]),
                     np.concatenate([student.array(f"before[{i}]").ravel() for i in (0, 1)]),
                     rtol=0, atol=0, what="the weight and bias after evaluate()")
        logits = x @ weight + bias
        z = logits - logits.max(axis=1, keepdims=True)
        losses = -(z - np.log(np.exp(z).sum(axis=1, keepdims=True)))[np.arange(len(x)), labels]
        expected_loss = (split * losses[:split].mean() + (len(x) - split) * losses[split:].mean()
                         ) / len(x)
        got = student.eval("[float(loss), float(acc)]")
        assert_array(np.array(got), [expected_loss, np.mean(logits.argmax(axis=1) == labels)],
                     rtol=1e-5, what=f"evaluate()'s (loss, accuracy) on batches of {split} and "
                     f"{len(x) - split}")


@check("training.loop.learns_xor", "a small network trained with Trainer and Adam learns XOR",
       "hidden")
def test_learns_xor(student, rng):
    student.exec(f"{IMPORT}\nmanual_seed(0)\n"
                 "model = Sequential(Linear(2, 8), Tanh(), Linear(8, 1), Sigmoid())\n"
                 "trainer = Trainer(model, Adam(model.parameters(), lr=0.05), "
                 "BinaryCrossEntropyLoss())\n"
                 "xor = [(np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]), "
                 "np.array([[0.0], [1.0], [1.0], [0.0]]))]\n"
                 "for _ in range(300):\n    loss, acc = trainer.train_epoch(xor)", timeout=60)
    loss, acc = student.eval("[float(loss), float(acc)]")
    if acc != 1.0 or not loss < 0.1:
        raise AssertionError(f"after 300 epochs on XOR: loss {loss:.3f}, accuracy {acc:.2f} "
                             "(expected loss < 0.1 and accuracy 1.0)")
    probe = rng.integers(2, size=(12, 2)).astype(np.float64)   # the job's own corners
    predicted = student.array(f"model(Tensor({probe.tolist()})).data")
    assert_array((predicted.reshape(-1) > 0.5) * 1.0, (probe[:, 0] != probe[:, 1]) * 1.0,
                 what=f"the trained network's predictions (> 0.5) for the corners\n{probe}")


@check("training.train_epoch.empty_loader", "train_epoch and evaluate on an empty loader raise "
       "ValueError instead of dividing by zero", "hidden")
def test_empty_loader(student, rng):
    """The error is the same for any input; the job's own part is the model trained before."""
    for setup in (trained(), trained(*regression_data(rng))):
        student.exec(setup)
        student.raises("trainer.train_epoch([])", "ValueError")
        student.raises("trainer.evaluate([])", "ValueError")


@check("training.accuracy.forms", "accuracy() handles labels as (N,), (N, 1), lists and float "
       "Tensors, and probabilities of shape (N,), (N, 1) or (N, k) (multi-label: the mean over "
       "every element)", "hidden")
def test_accuracy_forms(student, rng):
    for generator in (fixed(186), rng):
        assert_accuracy_forms(student, generator)


def assert_accuracy_forms(student, rng):
    """Every label and probability form on cases drawn from ``rng`` (labels (N, 1) compared
    by broadcasting can hit the right mean by chance on one draw, not on the fixed one)."""
    scores, labels = floats(rng, (9, 4)), rng.integers(4, size=9)
    probs, binary = rng.uniform(0, 1, size=9).astype(np.float32), rng.integers(2, size=9)
    multi, tags = rng.uniform(0, 1, size=(5, 3)).astype(np.float32), rng.integers(2, size=(5, 3))
    right = float(np.mean(scores.argmax(axis=1) == labels))
    right_binary = float(np.mean((probs > 0.5) == (binary > 0.5)))
    student.exec(f"{IMPORT}\nscores, probs = Tensor({literal(scores)}), Tensor({literal(probs)})")
    for expr, want in ((f"accuracy(scores, np.array({labels.tolist()}))", right),
                       (f"accuracy(scores, np.array({labels.tolist()}).reshape(-1, 1))", right),
                       (f"accuracy(scores, {labels.tolist()})", right),
                       (f"accuracy(scores, Tensor({labels.tolist()}))", right),
                       (f"accuracy(probs, np.array({binary.tolist()}, dtype=np.float32))",
                        right_binary),
                       (f"accuracy(probs.reshape(-1, 1), Tensor({binary.tolist()}).reshape(-1, 1))",
                        right_binary),
                       (f"accuracy(Tensor({literal(multi)}), np.array({tags.tolist()}))",
                        float(np.mean((multi > 0.5) == (tags > 0.5))))):
        assert_array(np.array(student.eval(f"float({expr})")), want,
                     what=expr)


@check("training.clip_grad_norm.many", "clip_grad_norm clips several gradients of any shape "
       "jointly, skips parameters without one and returns the norm before clipping", "hidden")
def test_clip_many(student, rng):
    grads = [floats(rng, shape) for shape in ((3, 4), (5,), (2, 1, 3))]
    norm = float(np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads)))
    for max_norm in (round(norm * float(rng.uniform(0.1, 0.9)), 4), round(norm * 1.5, 4)):
        student.exec(f"{IMPORT}\ngrads = [{', '.join(literal(g) for g in grads)}]\n"
                     "params = [Tensor(np.zeros(g.shape), requires_grad=True) for g in grads]\n"
                     "for q, g in zip(params, grads):\n    q.grad = g\n"
                     "idle = Tensor([1.0], requires_grad=True)\n"
                     f"norm = clip_grad_norm(params + [idle], {max_norm})")
        assert_array(np.array(student.eval("float(norm)")), norm, rtol=1e-5,
                     what=f"the norm clip_grad_norm(..., {max_norm}) returned")
        scale = min(1.0, max_norm / norm)
        for index, g in enumerate(grads):
            assert_array(student.array(f"params[{index}].grad"), g * scale, rtol=1e-4, atol=1e-7,
                         what=f"gradient {index} (shape {g.shape}) after clipping to "
                              f"max_norm {max_norm} (joint norm {norm:.4f})")


def train_by_hand(weight, bias, batches, rates):
    """Plain SGD on a Linear model with cross-entropy, one rate per batch; returns the weights
    and, per batch, (size, loss before the step, number right)."""
    log = []
    for (x, labels), lr in zip(batches, rates):
        logits = x @ weight + bias
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        log.append((len(x), -np.log(probs[np.arange(len(x)), labels]).mean(),
                    np.sum(logits.argmax(axis=1) == labels)))
        upstream = (probs - np.eye(weight.shape[1])[labels]) / len(x)
        weight, bias = weight - lr * x.T @ upstream, bias - lr * upstream.sum(axis=0)
    return weight, bias, log


@check("training.epochs.history", "three epochs of uneven batches with a per-batch schedule: "
       "history holds each epoch's batch-weighted loss, accuracy and rate", "hidden")
def test_epochs_history(student, rng):
    x, labels = floats(rng, (6, 3)).astype(np.float64), rng.integers(3, size=6)
    parts = [slice(0, 3), slice(3, 4), slice(4, 6)]
    data = "[" + ", ".join(f"(np.array({x[p].tolist()}), np.array({labels[p].tolist()}))"
                           for p in parts) + "]"
    student.exec(f"{IMPORT}\nmanual_seed(3)\nmodel = Linear(3, 3)\n"
                 "opt = SGD(model.parameters(), lr=0.5)\n"
                 "trainer = Trainer(model, opt, CrossEntropyLoss(), StepLR(opt, 2, gamma=0.5))")
    weight, bias = weights(student)
    student.exec(f"for _ in range(3):\n    trainer.train_epoch({data})")
    rates = [0.5 * 0.5 ** (k // 2) for k in range(9)]
    weight, bias, log = train_by_hand(weight.astype(np.float64), bias.astype(np.float64),
                                      [(x[p], labels[p]) for p in parts] * 3, rates)
    epochs = [log[3 * e:3 * e + 3] for e in range(3)]
    expected = {"train_loss": [sum(n * loss for n, loss, _ in e) / 6 for e in epochs],
                "train_accuracy": [sum(right for *_, right in e) / 6 for e in epochs],
                "lr": [0.5 * 0.5 ** (3 * (e + 1) // 2) for e in range(3)]}
    history = student.eval("trainer.history")
    for key, want in expected.items():
        assert_array(np.array(history[key]), want, rtol=1e-4, atol=1e-6,
                     what=f"history['{key}'] after three epochs")
    assert_array(student.array("model.weight"), weight, rtol=1e-4, atol=1e-5,
                 what="the weight after three epochs")
