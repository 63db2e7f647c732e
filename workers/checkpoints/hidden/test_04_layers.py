"""Module 04 - Layers: hidden checks (graders only): options, seeding, rates and speed."""

import numpy as np

from workers.checkpoints import assert_array, assert_equal, check, ratio_to_reference
from workers.checkpoints.perf import Workload

IMPORT = ("from tinytorch.core.tensor import Tensor\n"
          "from tinytorch.core.layers import Linear, Dropout, Sequential, kaiming_uniform, "
          "manual_seed")


@check("layers.linear.no_bias", "Linear(3, 2, bias=False) has no bias and one parameter",
       "hidden")
def test_linear_no_bias(student):
    x = np.array([[1.0, -2.0, 0.5]])
    student.exec(f"{IMPORT}\nlayer = Linear(3, 2, bias=False)\nx = Tensor({x.tolist()})")
    assert_equal(student.eval("layer.bias is None"), True, what="layer.bias is None")
    assert_equal(student.eval("len(layer.parameters())"), 1, what="len(layer.parameters())")
    assert_array(student.array("layer(x)"), x @ student.array("layer.weight"), what="layer(x)")


@check("layers.linear.batched", "Linear maps a (2, 5, 4) batch of sequences to (2, 5, 3)",
       "hidden")
def test_linear_batched(student):
    x = np.linspace(-1, 1, 40).reshape(2, 5, 4)
    student.exec(f"{IMPORT}\nlayer = Linear(4, 3)\nlayer.bias.data[...] = 1.0\n"
                 "x = Tensor(np.linspace(-1, 1, 40).reshape(2, 5, 4))")
    assert_array(student.array("layer(x)"), x @ student.array("layer.weight") + 1.0,
                 rtol=1e-5, what="layer(x) for x of shape (2, 5, 4)")


@check("layers.linear.bad_input", "Linear(4, 3) given 5 features raises ValueError", "hidden")
def test_linear_bad_input(student):
    student.exec(f"{IMPORT}\nlayer = Linear(4, 3)\nlayer(Tensor(np.ones((2, 4))))")
    student.raises("layer(Tensor(np.ones((2, 5))))", "ValueError")


@check("layers.init.seeded", "the same seed or rng gives the same weights; another seed "
       "gives others", "hidden")
def test_init_seeded(student):
    student.exec(f"{IMPORT}\nmanual_seed(5)\na = Linear(6, 4)\nmanual_seed(5)\nb = Linear(6, 4)\n"
                 "manual_seed(6)\nc = Linear(6, 4)\n"
                 "d = Linear(6, 4, rng=np.random.default_rng(9))\n"
                 "e = Linear(6, 4, rng=np.random.default_rng(9))")
    a, b, c = (student.array(f"{n}.weight") for n in "abc")
    assert_array(b, a, rtol=0, atol=0, what="the weights after manual_seed(5) again")
    if np.array_equal(a, c):
        raise AssertionError("manual_seed(6) gave the same weights as manual_seed(5)")
    assert_array(student.array("e.weight"), student.array("d.weight"), rtol=0, atol=0,
                 what="the weights drawn from np.random.default_rng(9) again")


@check("layers.kaiming.gain", "kaiming_uniform(shape, fan_in, gain=1) stays inside "
       "+-sqrt(3 / fan_in) and fills it", "hidden")
def test_kaiming_gain(student):
    student.exec(f"{IMPORT}\nw = kaiming_uniform((400, 50), 50, np.random.default_rng(0), "
                 "gain=1.0)")
    w = student.array("w")
    bound = np.sqrt(3 / 50)
    assert_equal(list(w.shape), [400, 50], what="the shape")
    if np.abs(w).max() > bound * 1.0001 or np.abs(w).max() < bound * 0.98:
        raise AssertionError(f"the largest |weight| is {np.abs(w).max():.4f}; uniform in "
                             f"+-sqrt(3 / 50) reaches close to {bound:.4f}")
    if abs(w.mean()) > 0.01:
        raise AssertionError(f"the weights have mean {w.mean():.4f}, expected about 0")


@check("layers.dropout.rate", "Dropout(0.2) drops about 20% and scales the rest by 1.25",
       "hidden")
def test_dropout_rate(student):
    student.exec(f"{IMPORT}\ny = Dropout(0.2, rng=np.random.default_rng(3))"
                 "(Tensor(np.full((200, 100), 3.0)))")
    y = student.array("y")
    dropped = float(np.mean(y == 0))
    if not 0.18 < dropped < 0.22:
        raise AssertionError(f"{dropped:.1%} of the inputs were dropped, expected about 20%")
    assert_array(np.unique(y[y != 0]), [3.75], what="the kept values (3 / (1 - 0.2))")


@check("layers.module.parameters_once", "a layer used twice in a model has its parameters "
       "listed once", "hidden")
def test_parameters_once(student):
    student.exec(f"{IMPORT}\nshared = Linear(3, 3)\nmodel = Sequential(shared, shared, "
                 "Linear(3, 1))")
    assert_equal(student.eval("sorted(list(p.shape) for p in model.parameters())"),
                 [[1], [3], [3, 1], [3, 3]], what="the sorted shapes of model.parameters()")


@check("layers.linear.vectorised", "a Linear forward on a batch is about as fast as the "
       "reference (no Python loops)", "hidden")
def test_linear_vectorised(student, reference, rng):
    work = Workload(f"{IMPORT}\nlayer = Linear(256, 256)", lambda rng: {
        "x": rng.normal(size=(256, 256)).astype(np.float32),
        "w": rng.normal(size=(256, 256)).astype(np.float32),
        "b": rng.normal(size=256).astype(np.float32)},
        "layer(Tensor(x))", prepare="layer.weight.data[...] = w\nlayer.bias.data[...] = b",
        what="Linear(256, 256) on a (256, 256) batch")
    ratio = ratio_to_reference(student, reference, rng, work)
    assert ratio <= 5.0, f"Linear forward took {ratio:.1f}x the reference's time (at most 5x passes)"
