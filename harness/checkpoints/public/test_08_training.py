"""Module 08 - Training: public checks (shipped to students with the starter).

A Linear model with MSE and plain SGD is small enough to follow by hand: each check reads the
initial weights back from the runner, computes the expected update here with NumPy, and
compares it with what the student's Trainer did.  The hidden checks import the helpers.
"""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check
from harness.checkpoints.inputs import floats, literal

IMPORT = ("from tinytorch.core.tensor import Tensor\n"
          "from tinytorch.core.layers import Linear, Sequential, manual_seed\n"
          "from tinytorch.core.activations import Tanh, Sigmoid\n"
          "from tinytorch.core.losses import MSELoss, CrossEntropyLoss, BinaryCrossEntropyLoss\n"
          "from tinytorch.core.optimizers import SGD, Adam, StepLR\n"
          "from tinytorch.core.training import Trainer, clip_grad_norm, accuracy")
X = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5], [-1.5, 0.5, 0.25], [0.0, 2.0, 1.0]])
Y = np.array([[1.0], [-0.5], [0.25], [2.0]])
LINEAR_SGD = ("manual_seed(0)\nmodel = Linear(3, 1)\nopt = SGD(model.parameters(), lr=0.1)\n"
              "trainer = Trainer(model, opt, MSELoss())\n")


def batches(*rows, x=X, y=Y):
    """Runner code for a list of (x, y) array batches taking ``rows`` slices of x and y."""
    return "[" + ", ".join(f"(np.array({x[r].tolist()}), np.array({y[r].tolist()}))"
                           for r in rows) + "]"


def regression_data(rng):
    """A job's own (x, y) for the Linear(3, 1) of LINEAR_SGD: 4 to 9 rows, float32 values."""
    rows = int(rng.integers(4, 10))
    return floats(rng, (rows, 3)).astype(np.float64), floats(rng, (rows, 1)).astype(np.float64)


def mse_gradients(weight, bias, x, y):
    """The gradients of a Linear model's MSE on one batch, and that loss."""
    error = x @ weight + bias - y
    upstream = 2 * error / error.size
    return x.T @ upstream, upstream.sum(axis=0), np.mean(error ** 2)


def sgd_step(weight, bias, x, y, lr=0.1):
    """One plain SGD step of a Linear model on the MSE of one batch, and that loss."""
    grad_w, grad_b, loss = mse_gradients(weight, bias, x, y)
    return weight - lr * grad_w, bias - lr * grad_b, loss


def adam_epochs(params, data, epochs, lr=0.05, gamma=0.9, betas=(0.9, 0.999), eps=1e-8):
    """A Linear model's (weight, bias) after ``epochs`` passes of Adam over the batches in
    ``data`` on the MSE, the learning rate times ``gamma`` after every step (``StepLR(opt, 1,
    gamma)`` stepped per batch), and the learning rate at each epoch's end."""
    moments, step, rates = [(0.0, 0.0)] * len(params), 0, []
    for _ in range(epochs):
        for x, y in data:
            step += 1
            grads = mse_gradients(*params, x, y)[:2]
            moments = [(betas[0] * m + (1 - betas[0]) * g, betas[1] * v + (1 - betas[1]) * g * g)
                       for (m, v), g in zip(moments, grads)]
            params = [p - lr * (m / (1 - betas[0] ** step))
                      / (np.sqrt(v / (1 - betas[1] ** step)) + eps)
                      for p, (m, v) in zip(params, moments)]
            lr *= gamma
        rates.append(lr)
    return params, rates


def weights(student):
    return student.array("model.weight"), student.array("model.bias")


@check("training.clip_grad_norm.global", "clip_grad_norm scales all gradients together so "
       "their joint norm is max_norm", "public")
def test_clip_global(student, rng):
    student.exec(f"{IMPORT}\na = Tensor([0.0, 0.0], requires_grad=True)\n"
                 "b = Tensor([[0.0, 0.0]], requires_grad=True)\n"
                 "a.grad = np.array([3.0, 0.0], dtype=np.float32)\n"
                 "b.grad = np.array([[0.0, 4.0]], dtype=np.float32)\n"
                 "norm = clip_grad_norm([a, b], 1.0)")
    assert_array(np.array(student.eval("float(norm)")), 5.0, what="the returned norm")
    assert_array(student.array("a.grad"), [0.6, 0.0], what="a.grad after clipping")
    assert_array(student.array("b.grad"), [[0.0, 0.8]], what="b.grad after clipping")
    a, b = floats(rng, int(rng.integers(2, 6))), floats(rng, (1, int(rng.integers(2, 6))))
    norm = float(np.sqrt(np.sum(a.astype(np.float64) ** 2) + np.sum(b.astype(np.float64) ** 2)))
    max_norm = round(norm * float(rng.uniform(0.2, 0.8)), 4)
    student.exec(f"a = Tensor(np.zeros({a.shape}), requires_grad=True)\n"
                 f"b = Tensor(np.zeros({b.shape}), requires_grad=True)\n"
                 f"a.grad = {literal(a)}\nb.grad = {literal(b)}\n"
                 f"norm = clip_grad_norm([a, b], {max_norm})")
    assert_array(np.array(student.eval("float(norm)")), norm, what="the returned norm")
    for name, grad in (("a", a), ("b", b)):
        assert_array(student.array(f"{name}.grad"), grad * (max_norm / norm), rtol=1e-4,
                     atol=1e-7, what=f"{name}.grad after clipping to {max_norm} (norm {norm:.4f})")


@check("training.accuracy.values", "accuracy() takes the argmax of class scores, or "
       "thresholds probabilities at 0.5", "public")
def test_accuracy(student, rng):
    scores = [[0.1, 0.7, 0.2], [2.0, 1.0, 0.0], [0.0, 0.0, 5.0], [0.3, 0.1, 0.2]]
    student.exec(f"{IMPORT}\nscores = Tensor({scores})")
    assert_equal(student.eval("float(accuracy(scores, np.array([1, 0, 2, 1])))"), 0.75,
                 what="accuracy of the scores against labels [1, 0, 2, 1]")
    assert_equal(student.eval("float(accuracy(Tensor([[0.9], [0.2], [0.6], [0.45]]), "
                              "np.array([[1.0], [1.0], [0.0], [0.0]])))"), 0.5,
                 what="accuracy of probabilities [0.9, 0.2, 0.6, 0.45] against [1, 1, 0, 0]")
    scores, labels = floats(rng, (9, 4)), rng.integers(4, size=9)
    targets = rng.integers(2, size=(9, 1))
    probs = (rng.uniform(0.05, 0.45, (9, 1)) + 0.5 * rng.integers(2, size=(9, 1))).round(3)
    for expr, want in ((f"accuracy(Tensor({literal(scores)}), np.array({labels.tolist()}))",
                        np.mean(scores.argmax(axis=1) == labels)),
                       (f"accuracy(Tensor({probs.tolist()}), np.array({targets.tolist()}))",
                        np.mean((probs > 0.5) == targets))):
        assert_equal(student.eval(f"float({expr})"), float(want), what=expr)


@check("training.train_epoch.one_step", "train_epoch on one batch takes exactly one SGD step "
       "and returns the batch's loss", "public")
def test_one_step(student, rng):
    for x, y in ((X, Y), regression_data(rng)):
        student.exec(f"{IMPORT}\n{LINEAR_SGD}")
        weight, bias = weights(student)
        student.exec(f"loss, acc = trainer.train_epoch({batches(slice(None), x=x, y=y)})")
        want_w, want_b, want_loss = sgd_step(weight, bias, x, y)
        assert_array(np.array(student.eval("float(loss)")), want_loss, what="the returned loss")
        assert_array(student.array("model.weight"), want_w, what="the weight after one epoch")
        assert_array(student.array("model.bias"), want_b, what="the bias after one epoch")


@check("training.train_epoch.zero_grad", "each batch's step uses that batch's gradient only "
       "(gradients are zeroed between steps)", "public")
def test_zero_grad(student, rng):
    for x, y in ((X, Y), regression_data(rng)):
        split = len(x) // 2
        student.exec(f"{IMPORT}\n{LINEAR_SGD}")
        weight, bias = weights(student)
        student.exec("loss, acc = trainer.train_epoch("
                     f"{batches(slice(0, split), slice(split, None), x=x, y=y)})")
        weight, bias, _ = sgd_step(weight, bias, x[:split], y[:split])
        weight, bias, _ = sgd_step(weight, bias, x[split:], y[split:])
        assert_array(student.array("model.weight"), weight, what="the weight after two batches")
        assert_array(student.array("model.bias"), bias, what="the bias after two batches")


@check("training.checkpoint.resume", "training resumed from a checkpoint continues exactly "
       "like training that never stopped", "public")
def test_checkpoint_resume(student, rng):
    x, y = regression_data(rng)
    for batch_x, batch_y, rows in ((X, Y, (slice(0, 2), slice(2, 4))),
                                   (x, y, (slice(0, 2), slice(2, None)))):
        resume(student, batch_x, batch_y, rows)


def resume(student, x, y, rows):
    """Train, save, train on; then a model set up with another seed loads the checkpoint and
    trains once: it must end exactly where the first one did, and both where Adam takes the
    first model's initial weights (computed here, so a trainer that never moves the model
    does not pass by agreeing with itself)."""
    data = batches(*rows, x=x, y=y)
    student.exec(f"{IMPORT}\nimport os, tempfile\npath = os.path.join(tempfile.mkdtemp(), "
                 "'run.npz')\n"
                 "def setup(seed):\n    manual_seed(seed)\n    model = Linear(3, 1)\n"
                 "    opt = Adam(model.parameters(), lr=0.05)\n"
                 "    return model, Trainer(model, opt, MSELoss(), StepLR(opt, 1, gamma=0.9))\n"
                 "model, trainer = setup(0)")
    (want_w, want_b), rates = adam_epochs(weights(student), [(x[r], y[r]) for r in rows], 2)
    student.exec(f"trainer.train_epoch({data})\n"
                 f"trainer.save_checkpoint(path)\ntrainer.train_epoch({data})\n"
                 f"resumed, again = setup(1)\nagain.load_checkpoint(path)\n"
                 f"again.train_epoch({data})")
    for name, want in (("weight", want_w), ("bias", want_b)):
        assert_array(student.array(f"model.{name}"), want, rtol=1e-4, atol=1e-5,
                     what=f"the {name} after two epochs of Adam")
        assert_array(student.array(f"resumed.{name}"), student.array(f"model.{name}"),
                     rtol=0, atol=0, what=f"the {name} after resuming and one more epoch")
    assert_array(np.array(student.eval("[trainer.epoch] + trainer.history['lr']")),
                 np.array([2] + rates), what="[epoch] + history['lr'] of training that never "
                 "stopped")
    assert_equal(student.eval("[again.epoch, again.history['lr']]"),
                 student.eval("[trainer.epoch, trainer.history['lr']]"),
                 what="[epoch, history['lr']] after resuming")
