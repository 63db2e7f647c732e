"""Module 03 - Activations: hidden checks (graders only): extremes, axes and dtypes."""

import numpy as np

from harness.checkpoints import assert_array, check
from harness.checkpoints.inputs import Cases, _sizes, extreme_rows, fixed, floats, literal
from harness.checkpoints.recorded import assert_recorded
from harness.checkpoints.public.test_03_activations import ELEMENTWISE, log_softmax, softmax

IMPORT = ("from tinytorch.core.tensor import Tensor\n"
          "from tinytorch.core.activations import ReLU, Sigmoid, Tanh, GELU, Softmax, LogSoftmax")


@check("activations.sigmoid.stable", "Sigmoid() of -1000 and 1000 gives 0 and 1 without "
       "overflowing exp", "hidden")
def test_sigmoid_stable(student, rng):
    values = [-1000.0, -100.0, 0.0, 100.0, 1000.0]
    extra = rng.uniform(-1000, 1000, size=8).astype(np.float32)
    student.exec(f"{IMPORT}\nx = Tensor({values})\nmore = Tensor({literal(extra)})\n"
                 "with np.errstate(over='raise'):\n    y = Sigmoid()(x)\n    z = Sigmoid()(more)")
    assert_array(student.array("y"), [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-30,
                 what="Sigmoid()(x) for x = [-1000, -100, 0, 100, 1000]")
    with np.errstate(over="ignore"):
        expected = ELEMENTWISE["Sigmoid()"](extra.astype(np.float64))
    assert_array(student.array("z"), expected, atol=1e-30,
                 what=f"Sigmoid()(x) for x = {np.round(extra, 1).tolist()}")


@check("activations.log_softmax.stable", "LogSoftmax() of [1000, 0, -1000] stays finite "
       "(log-sum-exp)", "hidden")
def test_log_softmax_stable(student, rng):
    student.exec(f"{IMPORT}\nx = Tensor([[1000.0, 0.0, -1000.0]])")
    assert_array(student.array("LogSoftmax()(x)"), [[0.0, -1000.0, -2000.0]],
                 what="LogSoftmax()(x) for x = [[1000, 0, -1000]]")
    cases = Cases(IMPORT)
    x = rng.uniform(-1000, 1000, size=(4, 3)).astype(np.float32)
    cases.expect(f"LogSoftmax()({cases.tensor(x)})", log_softmax(x.astype(np.float64)),
                 f"LogSoftmax()(x) for x =\n{np.round(x, 1)}")
    cases.check(student)


@check("activations.softmax.dim", "Softmax(dim=0) normalises each column instead of each row",
       "hidden")
def test_softmax_dim(student, rng):
    x = np.array([[1.0, 2.0, -1.0], [3.0, 0.0, 2.0]])
    student.exec(f"{IMPORT}\nx = Tensor({x.tolist()})")
    e = np.exp(x - x.max(axis=0))
    assert_array(student.array("Softmax(dim=0)(x)"), e / e.sum(axis=0),
                 what="Softmax(dim=0)(x)")
    cases = Cases(IMPORT)
    x = floats(rng, tuple(_sizes(rng, 2)), scale=2.0)
    cases.expect(f"Softmax(dim=0)({cases.tensor(x)})", softmax(x.astype(np.float64), 0),
                 f"Softmax(dim=0)(x) of shape {x.shape}")
    cases.check(student)


@check("activations.softmax.masked_row", "Softmax() of a row that is all -inf gives zeros, "
       "not NaN", "hidden")
def test_softmax_masked_row(student, rng):
    student.exec(f"{IMPORT}\nx = Tensor(np.array([[0.0, -np.inf, 0.0], [-np.inf] * 3]))")
    assert_array(student.array("Softmax()(x)"), [[0.5, 0.0, 0.5], [0.0, 0.0, 0.0]],
                 what="Softmax()(x) for x = [[0, -inf, 0], [-inf, -inf, -inf]]")
    x = floats(rng, (4, 5), scale=2.0)
    masked = rng.random(x.shape) < 0.4
    masked[rng.integers(len(x))] = True
    cases = Cases(IMPORT)
    cases.run(f"x = Tensor(np.where({literal(masked)}, -np.inf, {literal(x)}))")
    x = np.where(masked, -np.inf, x.astype(np.float64))
    live = ~masked.all(axis=1)
    expected = np.zeros_like(x)
    expected[live] = softmax(x[live])
    cases.expect("Softmax()(x)", expected, f"Softmax()(x) for x =\n{np.round(x, 2)}")
    cases.check(student)


@check("activations.inputs.unchanged", "activations return new tensors and leave their input "
       "alone", "hidden")
def test_inputs_unchanged(student, rng):
    values = [[-2.0, -0.5, 0.0, 0.5, 3.0]]
    student.exec(f"{IMPORT}\nx = Tensor({values})\n"
                 "outs = [f(x) for f in (ReLU(), Sigmoid(), Tanh(), GELU(), Softmax(), "
                 "LogSoftmax())]")
    assert_array(student.array("x"), values, what="x after applying every activation to it")
    assert_array(student.array("outs[0]"), np.maximum(values, 0), what="ReLU()(x)")
    cases = Cases(IMPORT)
    x = floats(rng, tuple(_sizes(rng, 2)), scale=2.0)
    name = cases.tensor(x)
    cases.run(f"outs = [f({name}) for f in (ReLU(), Sigmoid(), Tanh(), GELU(), Softmax(), "
              "LogSoftmax())]")
    cases.expect(name, x, f"x of shape {x.shape} after applying every activation to it")
    cases.expect("outs[0]", np.maximum(x, 0), "ReLU()(x)")
    cases.check(student)


@check("activations.all.return_tensor", "every activation returns a Tensor (not a bare NumPy "
       "array), holding its values", "hidden")
def test_return_tensor(student, rng):
    x = floats(rng, (3, 4), scale=2.0)
    student.exec(f"{IMPORT}\nx = Tensor({x.tolist()!r})\nlayers = (ReLU(), Sigmoid(), Tanh(), "
                 "GELU(), Softmax(), LogSoftmax())\nouts = [f(x) for f in layers]")
    names = ["ReLU", "Sigmoid", "Tanh", "GELU", "Softmax", "LogSoftmax"]
    assert_array(np.array(student.eval("[isinstance(out, Tensor) for out in outs]")),
                 np.ones(6, bool), what=f"isinstance(f(x), Tensor) for f in {names}")
    x = x.astype(np.float64)
    expected = [np.maximum(x, 0), 1 / (1 + np.exp(-x)), np.tanh(x),
                0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))),
                softmax(x), log_softmax(x)]
    for index, (name, values) in enumerate(zip(names, expected)):
        assert_array(student.array(f"outs[{index}].data"), values, dtype=np.float32,
                     rtol=1e-5, atol=1e-6, what=f"{name}()(x).data")


FLOAT64_LAYERS = ("ReLU()", "Sigmoid()", "Tanh()", "Softmax()", "GELU()")


@check("activations.shape.float64", "activations keep the shape of a 3-D input and a float64 "
       "dtype", "hidden")
def test_shape_float64(student, rng):
    student.exec(f"{IMPORT}\nx = Tensor(np.linspace(-3, 3, 24).reshape(2, 3, 4), "
                 "dtype=np.float64)")
    x = np.linspace(-3, 3, 24).reshape(2, 3, 4)
    for name in FLOAT64_LAYERS:
        assert_array(student.array(f"{name}(x)"), ELEMENTWISE[name](x), dtype=np.float64,
                     rtol=1e-10, atol=1e-12, what=f"{name}(x) of a float64 (2, 3, 4) tensor")
    cases = Cases(IMPORT)
    x = floats(rng, tuple(_sizes(rng, 3)), scale=3.0, dtype=np.float64)
    name = cases.tensor(x)
    for layer in FLOAT64_LAYERS:
        cases.expect(f"{layer}({name})", ELEMENTWISE[layer](x), f"a float64 {x.shape} tensor")
    cases.check(student, dtype=np.float64, rtol=1e-10, atol=1e-12)


@check("activations.softmax.bad_dim", "Softmax(dim=2) on a 2-D tensor raises an error instead "
       "of returning numbers", "hidden")
def test_softmax_bad_dim(student, rng):
    student.exec(f"{IMPORT}\nx = Tensor([[1.0, 2.0], [3.0, 4.0]])\nSoftmax(dim=1)(x)")
    student.raises("Softmax(dim=2)(x)", "ValueError", "IndexError")
    shape = tuple(_sizes(rng, int(rng.integers(1, 4))))
    student.exec(f"{IMPORT}\nx = Tensor({literal(floats(rng, shape))})\n"
                 f"Softmax(dim={len(shape) - 1})(x)")
    bad = int(rng.choice([len(shape), len(shape) + 1, -len(shape) - 1]))
    student.raises(f"Softmax(dim={bad})(x)", "ValueError", "IndexError")


@check("activations.all.stable", "every activation gives finite, right values for inputs up to "
       "+-1000, and (Log)Softmax for rows near very different levels", "hidden")
def test_all_stable(student, rng):
    cases = Cases(IMPORT)
    edges = np.array([-1000.0, -500.0, -88.0, -20.0, 0.0, 20.0, 88.0, 500.0, 1000.0])
    x = np.concatenate([edges, rng.uniform(-1000, 1000, size=7)]).astype(np.float32)
    name = cases.tensor(x)
    for layer in ("ReLU()", "Sigmoid()", "Tanh()", "GELU()"):
        cases.expect(f"{layer}({name})", ELEMENTWISE[layer](x.astype(np.float64)),
                     "inputs from -1000 to 1000")
    for generator in (fixed(32), rng):
        rows = extreme_rows(generator, 6, 5)
        name = cases.tensor(rows)
        for layer in ("Softmax()", "LogSoftmax()"):
            cases.expect(f"{layer}({name})", ELEMENTWISE[layer](rows.astype(np.float64)),
                         f"rows of logits near different levels:\n{np.round(rows, 1)}")
    cases.check(student, dtype=np.float32, rtol=1e-5, atol=1e-6)


@check("activations.softmax.every_dim", "Softmax(dim) and LogSoftmax(dim) normalise along any "
       "dim of a 3-D input, negative dims too", "hidden")
def test_softmax_every_dim(student, rng):
    for generator in (fixed(33), rng):
        cases = Cases(IMPORT)
        shape = tuple(int(n) for n in generator.choice(np.arange(2, 7), size=3, replace=False))
        x = floats(generator, shape, scale=4.0)
        name = cases.tensor(x)
        for dim in (0, 1, 2, -1, -2, -3):
            cases.expect(f"Softmax(dim={dim})({name})", softmax(x.astype(np.float64), dim),
                         f"an input of shape {shape}")
            cases.expect(f"LogSoftmax(dim={dim})({name})", log_softmax(x.astype(np.float64), dim),
                         f"an input of shape {shape}")
        cases.check(student, dtype=np.float32, rtol=1e-5, atol=1e-6)


RECORDED = {"ReLU()": "relu", "Sigmoid()": "sigmoid", "Tanh()": "tanh", "GELU()": "gelu",
            "Softmax(dim=0)": "softmax", "LogSoftmax()": "log_softmax"}


@check("activations.all.recorded", "every activation of a tensor that requires grad records "
       "itself for autograd under its own op name (not a fresh Tensor, not another op's name); "
       "Softmax and LogSoftmax save their dim", "hidden")
def test_all_recorded(student, rng):
    setup = (f"{IMPORT}\nx = Tensor({floats(rng, (3, 4), scale=2.0).tolist()!r}, "
             "requires_grad=True)\nleaves = {'x': x}")
    assert_recorded(student, setup, [(f"_recorded({layer}(x), leaves)", [op, ["x"]],
                                      f"[op, parents] recorded by {layer}")
                                     for layer, op in RECORDED.items()]
                    + [(f"_saved({layer}(dim={dim})(x), ['dim'])", [dim], f"{layer}'s ctx.saved")
                       for layer in ("Softmax", "LogSoftmax") for dim in (0, 1)])
