"""Module 04 - Layers: public checks (shipped to students with the starter).

Forward passes and parameters only (no backward: that is module 07).  Weights are read back
from the runner and the expected outputs computed here with NumPy.
"""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check
from harness.checkpoints.inputs import Cases, _sizes, fixed, floats, literal

IMPORT = ("from tinytorch.core.tensor import Tensor\n"
          "from tinytorch.core.activations import ReLU\n"
          "from tinytorch.core.layers import Linear, Dropout, Sequential, Flatten, "
          "kaiming_uniform, manual_seed")
X = np.array([[0.5, -1.0, 2.0, 0.0], [1.5, 0.25, -0.75, 3.0]])


def _linear_shapes(student, n_in, n_out, x):
    student.exec(f"{IMPORT}\nlayer = Linear({n_in}, {n_out})\nx = Tensor({x.tolist()})")
    name = f"Linear({n_in}, {n_out})"
    assert_equal(student.eval("list(layer.weight.shape)"), [n_in, n_out],
                 what=f"{name}.weight.shape")
    assert_array(student.array("layer.bias"), np.zeros(n_out), dtype=np.float32,
                 what=f"{name}.bias")
    assert_equal(student.eval("list(layer(x).shape)"), [len(x), n_out], what=f"{name}(x).shape")


@check("layers.linear.shapes", "Linear(4, 3) holds weight (4, 3) and a zero bias (3,), and "
       "maps (2, 4) to (2, 3)", "public")
def test_linear_shapes(student, rng):
    _linear_shapes(student, 4, 3, X)
    n_in, n_out, batch = _sizes(rng, 3)
    _linear_shapes(student, n_in, n_out, floats(rng, (batch, n_in)))


def _linear_forward(student, x, bias):
    student.exec(f"{IMPORT}\nlayer = Linear({x.shape[1]}, {len(bias)})\n"
                 f"layer.bias.data[...] = np.array({bias.tolist()})\nx = Tensor({x.tolist()})")
    weight = student.array("layer.weight")
    assert_array(student.array("layer(x)"), x.astype(np.float64) @ weight + bias, rtol=1e-5,
                 dtype=np.float32, what="layer(x)")


@check("layers.linear.forward", "Linear computes x @ weight + bias", "public")
def test_linear_forward(student, rng):
    _linear_forward(student, X, np.array([0.5, -1.0, 2.0]))
    n_in, n_out, batch = _sizes(rng, 3)
    _linear_forward(student, floats(rng, (batch, n_in)), floats(rng, n_out))


def _he_uniform(student, seed, n_in, n_out):
    student.exec(f"{IMPORT}\nmanual_seed({seed})\nlayer = Linear({n_in}, {n_out})")
    weight = student.array("layer.weight")
    bound = np.sqrt(6 / n_in)
    assert_equal(str(weight.dtype), "float32", what="the weight's dtype")
    if np.abs(weight).max() > bound * 1.0001:
        raise AssertionError(f"weights of Linear({n_in}, {n_out}) reach "
                             f"{np.abs(weight).max():.4f}, beyond the He-uniform bound "
                             f"sqrt(6 / {n_in}) = {bound:.4f}")
    if not 0.95 < weight.std() / (bound / np.sqrt(3)) < 1.05:
        raise AssertionError(f"weights of Linear({n_in}, {n_out}) have standard deviation "
                             f"{weight.std():.4f}; He-uniform gives {bound / np.sqrt(3):.4f}")


@check("layers.linear.init", "Linear's weights are He-uniform: inside +-sqrt(6 / in_features) "
       "with the matching spread", "public")
def test_linear_init(student, rng):
    _he_uniform(student, 0, 512, 256)
    _he_uniform(student, int(rng.integers(1, 2**31)), int(rng.integers(200, 600)),
                int(rng.integers(150, 300)))


def _parameters(student, n_in, hidden, n_out):
    student.exec(f"{IMPORT}\nmodel = Sequential(Linear({n_in}, {hidden}), ReLU(), "
                 f"Linear({hidden}, {n_out}))\nparams = model.parameters()")
    assert_equal(student.eval("sorted(list(p.shape) for p in params)"),
                 sorted([[n_in, hidden], [hidden], [hidden, n_out], [n_out]]),
                 what=f"the sorted shapes of the parameters() of Sequential(Linear({n_in}, "
                      f"{hidden}), ReLU(), Linear({hidden}, {n_out}))")
    assert_equal(student.eval("[bool(p.requires_grad) for p in params]"), [True] * 4,
                 what="requires_grad of each parameter")


@check("layers.module.parameters", "parameters() of Sequential(Linear(4, 8), ReLU(), "
       "Linear(8, 2)) lists its 4 trainable tensors", "public")
def test_module_parameters(student, rng):
    _parameters(student, 4, 8, 2)
    _parameters(student, *_sizes(rng, 3))


def _sequential_forward(student, x, hidden, n_out, bias):
    student.exec(f"{IMPORT}\nfirst, second = Linear({x.shape[1]}, {hidden}), Linear({hidden}, "
                 f"{n_out})\nfirst.bias.data[...] = {bias}\n"
                 f"model = Sequential(first, ReLU(), second)\nx = Tensor({x.tolist()})")
    w1, b1, w2, b2 = (student.array(name) for name in
                      ("first.weight", "first.bias", "second.weight", "second.bias"))
    expected = np.maximum(x.astype(np.float64) @ w1 + b1, 0) @ w2 + b2
    assert_array(student.array("model(x)"), expected, rtol=1e-5, what="model(x)")


@check("layers.sequential.forward", "Sequential applies its layers in order", "public")
def test_sequential_forward(student, rng):
    _sequential_forward(student, X, 5, 2, 0.1)
    n_in, hidden, n_out, batch = _sizes(rng, 4)
    _sequential_forward(student, floats(rng, (batch, n_in)), hidden, n_out,
                        round(float(rng.uniform(-0.5, 0.5)), 3))


def _dropout_halves(student, seed, rows):
    student.exec(f"{IMPORT}\nmanual_seed({seed})\n"
                 f"y = Dropout(0.5)(Tensor(np.ones(({rows}, 100))))")
    y = student.array("y")
    assert_equal(list(y.shape), [rows, 100], what="the output shape")
    values = set(np.unique(y).tolist())
    if not values <= {0.0, 2.0}:
        raise AssertionError(f"outputs should be 0 (dropped) or 2 (kept, scaled by 1/(1-p)), "
                             f"got values {sorted(values)[:6]}")
    dropped = float(np.mean(y == 0))
    if not 0.47 < dropped < 0.53:
        raise AssertionError(f"{dropped:.1%} of the inputs were dropped after "
                             f"manual_seed({seed}), expected about 50%")


@check("layers.dropout.train_scale", "Dropout(0.5) zeroes about half the inputs while training "
       "and doubles the rest", "public")
def test_dropout_train_scale(student, rng):
    _dropout_halves(student, 1, 200)
    _dropout_halves(student, int(rng.integers(2, 2**31)), int(rng.integers(200, 300)))


def _eval_identity(student, x, n_out):
    student.exec(f"{IMPORT}\nlayer = Linear({x.shape[1]}, {n_out})\n"
                 "model = Sequential(layer, Dropout(0.5))\n"
                 f"model.eval()\nx = Tensor({x.tolist()})")
    weight, bias = student.array("layer.weight"), student.array("layer.bias")
    assert_array(student.array("model(x)"), x.astype(np.float64) @ weight + bias, rtol=1e-5,
                 what="model(x) in eval mode")


@check("layers.dropout.eval_identity", "model.eval() turns Dropout into the identity inside a "
       "Sequential", "public")
def test_dropout_eval_identity(student, rng):
    _eval_identity(student, X, 3)
    n_in, n_out, batch = _sizes(rng, 3)
    _eval_identity(student, floats(rng, (batch, n_in)), n_out)


@check("layers.flatten.shape", "Flatten turns (2, 3, 4, 5) into (2, 60), keeping the order",
       "public")
def test_flatten_shape(student, rng):
    student.exec(f"{IMPORT}\nx = Tensor(np.arange(120.0).reshape(2, 3, 4, 5))")
    assert_array(student.array("Flatten()(x)"), np.arange(120.0).reshape(2, 60),
                 what="Flatten()(x)")
    cases = Cases(IMPORT)
    x = floats(rng, tuple(_sizes(rng, 4)))
    cases.expect(f"Flatten()({cases.tensor(x)})", x.reshape(len(x), -1),
                 f"Flatten() of shape {x.shape}")
    cases.check(student)


@check("layers.linear.ranks", "Linear(in, out) maps inputs of shape (in,), (1, in), (batch, in) "
       "and 3-D/4-D batches, wide or tall, with and without bias", "public")
def test_linear_ranks(student, rng):
    for generator in (fixed(41), rng):
        cases = Cases(IMPORT)
        for index, (n_in, n_out) in enumerate(((2, 7), (7, 2), (5, 1), (1, 4))):
            weight, bias = floats(generator, (n_in, n_out)), floats(generator, n_out)
            cases.run(f"layer{index} = Linear({n_in}, {n_out}, bias={index != 2})\n"
                      f"layer{index}.weight.data[...] = {literal(weight)}")
            if index != 2:
                cases.run(f"layer{index}.bias.data[...] = {literal(bias)}")
            for shape in ((n_in,), (1, n_in), (3, n_in), (2, 3, n_in), (2, 1, 2, n_in)):
                x = floats(generator, shape)
                expected = x.astype(np.float64) @ weight + (bias if index != 2 else 0)
                cases.expect(f"layer{index}({cases.tensor(x)})", expected,
                             f"Linear({n_in}, {n_out}, bias={index != 2}) on an input of shape "
                             f"{shape}")
        cases.check(student, dtype=np.float32, rtol=1e-5, atol=1e-5)
