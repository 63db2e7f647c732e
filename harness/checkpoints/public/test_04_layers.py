"""Module 04 - Layers: public checks (shipped to students with the starter).

Forward passes and parameters only (no backward: that is module 07).  Weights are read back
from the runner and the expected outputs computed here with NumPy.
"""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check
from harness.checkpoints.inputs import Cases, fixed, floats
from harness.checkpoints.public.test_13_attention import literal

IMPORT = ("from tinytorch.core.tensor import Tensor\n"
          "from tinytorch.core.activations import ReLU\n"
          "from tinytorch.core.layers import Linear, Dropout, Sequential, Flatten, "
          "kaiming_uniform, manual_seed")
X = np.array([[0.5, -1.0, 2.0, 0.0], [1.5, 0.25, -0.75, 3.0]])


@check("layers.linear.shapes", "Linear(4, 3) holds weight (4, 3) and a zero bias (3,), and "
       "maps (2, 4) to (2, 3)", "public")
def test_linear_shapes(student):
    student.exec(f"{IMPORT}\nlayer = Linear(4, 3)\nx = Tensor({X.tolist()})")
    assert_equal(student.eval("list(layer.weight.shape)"), [4, 3], what="Linear(4, 3).weight.shape")
    assert_array(student.array("layer.bias"), np.zeros(3), dtype=np.float32,
                 what="Linear(4, 3).bias")
    assert_equal(student.eval("list(layer(x).shape)"), [2, 3], what="Linear(4, 3)(x).shape")


@check("layers.linear.forward", "Linear computes x @ weight + bias", "public")
def test_linear_forward(student):
    student.exec(f"{IMPORT}\nlayer = Linear(4, 3)\n"
                 "layer.bias.data[...] = np.array([0.5, -1.0, 2.0])\nx = Tensor("
                 f"{X.tolist()})")
    weight = student.array("layer.weight")
    assert_array(student.array("layer(x)"), X @ weight + [0.5, -1.0, 2.0], rtol=1e-5,
                 dtype=np.float32, what="layer(x)")


@check("layers.linear.init", "Linear's weights are He-uniform: inside +-sqrt(6 / in_features) "
       "with the matching spread", "public")
def test_linear_init(student):
    student.exec(f"{IMPORT}\nmanual_seed(0)\nlayer = Linear(512, 256)")
    weight = student.array("layer.weight")
    bound = np.sqrt(6 / 512)
    assert_equal(str(weight.dtype), "float32", what="the weight's dtype")
    if np.abs(weight).max() > bound * 1.0001:
        raise AssertionError(f"weights reach {np.abs(weight).max():.4f}, beyond the He-uniform "
                             f"bound sqrt(6 / 512) = {bound:.4f}")
    if not 0.95 < weight.std() / (bound / np.sqrt(3)) < 1.05:
        raise AssertionError(f"weights have standard deviation {weight.std():.4f}; He-uniform "
                             f"gives {bound / np.sqrt(3):.4f}")


@check("layers.module.parameters", "parameters() of Sequential(Linear(4, 8), ReLU(), "
       "Linear(8, 2)) lists its 4 trainable tensors", "public")
def test_module_parameters(student):
    student.exec(f"{IMPORT}\nmodel = Sequential(Linear(4, 8), ReLU(), Linear(8, 2))\n"
                 "params = model.parameters()")
    assert_equal(student.eval("sorted(list(p.shape) for p in params)"),
                 [[2], [4, 8], [8], [8, 2]], what="the sorted shapes of model.parameters()")
    assert_equal(student.eval("[bool(p.requires_grad) for p in params]"), [True] * 4,
                 what="requires_grad of each parameter")


@check("layers.sequential.forward", "Sequential applies its layers in order", "public")
def test_sequential_forward(student):
    student.exec(f"{IMPORT}\nfirst, second = Linear(4, 5), Linear(5, 2)\n"
                 "first.bias.data[...] = 0.1\nmodel = Sequential(first, ReLU(), second)\n"
                 f"x = Tensor({X.tolist()})")
    w1, b1, w2, b2 = (student.array(name) for name in
                      ("first.weight", "first.bias", "second.weight", "second.bias"))
    expected = np.maximum(X @ w1 + b1, 0) @ w2 + b2
    assert_array(student.array("model(x)"), expected, rtol=1e-5, what="model(x)")


@check("layers.dropout.train_scale", "Dropout(0.5) zeroes about half the inputs while training "
       "and doubles the rest", "public")
def test_dropout_train_scale(student):
    student.exec(f"{IMPORT}\nmanual_seed(1)\ny = Dropout(0.5)(Tensor(np.ones((200, 100))))")
    y = student.array("y")
    assert_equal(list(y.shape), [200, 100], what="the output shape")
    values = set(np.unique(y).tolist())
    if not values <= {0.0, 2.0}:
        raise AssertionError(f"outputs should be 0 (dropped) or 2 (kept, scaled by 1/(1-p)), "
                             f"got values {sorted(values)[:6]}")
    dropped = float(np.mean(y == 0))
    if not 0.47 < dropped < 0.53:
        raise AssertionError(f"{dropped:.1%} of the inputs were dropped, expected about 50%")


@check("layers.dropout.eval_identity", "model.eval() turns Dropout into the identity inside a "
       "Sequential", "public")
def test_dropout_eval_identity(student):
    student.exec(f"{IMPORT}\nlayer = Linear(4, 3)\nmodel = Sequential(layer, Dropout(0.5))\n"
                 f"model.eval()\nx = Tensor({X.tolist()})")
    weight, bias = student.array("layer.weight"), student.array("layer.bias")
    assert_array(student.array("model(x)"), X @ weight + bias, rtol=1e-5,
                 what="model(x) in eval mode")


@check("layers.flatten.shape", "Flatten turns (2, 3, 4, 5) into (2, 60), keeping the order",
       "public")
def test_flatten_shape(student):
    student.exec(f"{IMPORT}\nx = Tensor(np.arange(120.0).reshape(2, 3, 4, 5))")
    assert_array(student.array("Flatten()(x)"), np.arange(120.0).reshape(2, 60),
                 what="Flatten()(x)")


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
