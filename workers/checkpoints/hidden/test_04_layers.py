"""Module 04 - Layers: hidden checks (graders only): options, seeding, rates and speed."""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check, ratio_to_reference
from harness.checkpoints.inputs import Cases, _sizes, floats, results, literal
from harness.checkpoints.perf import Workload
from harness.checkpoints.recorded import assert_recorded

IMPORT = ("from tinytorch.core.tensor import Tensor\n"
          "from tinytorch.core.layers import Linear, Dropout, Sequential, kaiming_uniform, "
          "manual_seed")


def _no_bias(student, x, n_out):
    student.exec(f"{IMPORT}\nlayer = Linear({x.shape[1]}, {n_out}, bias=False)\n"
                 f"x = Tensor({x.tolist()})")
    assert_equal(student.eval("layer.bias is None"), True, what="layer.bias is None")
    assert_equal(student.eval("len(layer.parameters())"), 1, what="len(layer.parameters())")
    assert_array(student.array("layer(x)"), x.astype(np.float64) @ student.array("layer.weight"),
                 what=f"layer(x) for Linear({x.shape[1]}, {n_out}, bias=False)")


@check("layers.linear.no_bias", "Linear(3, 2, bias=False) has no bias and one parameter",
       "hidden")
def test_linear_no_bias(student, rng):
    _no_bias(student, np.array([[1.0, -2.0, 0.5]]), 2)
    n_in, n_out, batch = _sizes(rng, 3)
    _no_bias(student, floats(rng, (batch, n_in)), n_out)


def _batched(student, x, n_out, bias, setup):
    student.exec(f"{IMPORT}\nlayer = Linear({x.shape[-1]}, {n_out})\n"
                 f"layer.bias.data[...] = {bias}\nx = {setup}")
    assert_array(student.array("layer(x)"),
                 x.astype(np.float64) @ student.array("layer.weight") + bias, rtol=1e-5,
                 what=f"layer(x) for x of shape {x.shape}")


@check("layers.linear.batched", "Linear maps a (2, 5, 4) batch of sequences to (2, 5, 3)",
       "hidden")
def test_linear_batched(student, rng):
    _batched(student, np.linspace(-1, 1, 40).reshape(2, 5, 4), 3, 1.0,
             "Tensor(np.linspace(-1, 1, 40).reshape(2, 5, 4))")
    batch, steps, n_in, n_out = _sizes(rng, 4)
    x = floats(rng, (batch, steps, n_in))
    _batched(student, x, n_out, round(float(rng.uniform(-2, 2)), 3), f"Tensor({literal(x)})")


@check("layers.linear.bad_input", "Linear(4, 3) given 5 features raises ValueError", "hidden")
def test_linear_bad_input(student, rng):
    student.exec(f"{IMPORT}\nlayer = Linear(4, 3)\nlayer(Tensor(np.ones((2, 4))))")
    student.raises("layer(Tensor(np.ones((2, 5))))", "ValueError")
    n_in, wrong, n_out, batch = _sizes(rng, 4)
    student.exec(f"{IMPORT}\nlayer = Linear({n_in}, {n_out})\n"
                 f"layer(Tensor({literal(floats(rng, (batch, n_in)))}))")
    student.raises(f"layer(Tensor({literal(floats(rng, (batch, wrong)))}))", "ValueError")


def _seeded(student, seeds, n_in, n_out):
    """Linear layers made after manual_seed(first), again, manual_seed(second), and from two
    generators seeded with the third."""
    first, second, third = seeds
    layer = f"Linear({n_in}, {n_out}"
    student.exec(f"{IMPORT}\nmanual_seed({first})\na = {layer})\nmanual_seed({first})\n"
                 f"b = {layer})\nmanual_seed({second})\nc = {layer})\n"
                 f"d = {layer}, rng=np.random.default_rng({third}))\n"
                 f"e = {layer}, rng=np.random.default_rng({third}))")
    a, b, c = (student.array(f"{n}.weight") for n in "abc")
    assert_array(b, a, rtol=0, atol=0, what=f"the weights after manual_seed({first}) again")
    if np.array_equal(a, c):
        raise AssertionError(f"manual_seed({second}) gave the same weights as "
                             f"manual_seed({first})")
    assert_array(student.array("e.weight"), student.array("d.weight"), rtol=0, atol=0,
                 what=f"the weights drawn from np.random.default_rng({third}) again")


@check("layers.init.seeded", "the same seed or rng gives the same weights; another seed "
       "gives others", "hidden")
def test_init_seeded(student, rng):
    _seeded(student, (5, 6, 9), 6, 4)
    _seeded(student, rng.choice(2**31, size=3, replace=False).tolist(), *_sizes(rng, 2))


def _kaiming_gain(student, rows, fan_in, seed):
    student.exec(f"{IMPORT}\nw = kaiming_uniform(({rows}, {fan_in}), {fan_in}, "
                 f"np.random.default_rng({seed}), gain=1.0)")
    w = student.array("w")
    bound = np.sqrt(3 / fan_in)
    assert_equal(list(w.shape), [rows, fan_in], what="the shape")
    if np.abs(w).max() > bound * 1.0001 or np.abs(w).max() < bound * 0.98:
        raise AssertionError(f"the largest |weight| is {np.abs(w).max():.4f}; uniform in "
                             f"+-sqrt(3 / {fan_in}) reaches close to {bound:.4f}")
    if abs(w.mean()) > 0.01:
        raise AssertionError(f"the weights have mean {w.mean():.4f}, expected about 0")


@check("layers.kaiming.gain", "kaiming_uniform(shape, fan_in, gain=1) stays inside "
       "+-sqrt(3 / fan_in) and fills it", "hidden")
def test_kaiming_gain(student, rng):
    _kaiming_gain(student, 400, 50, 0)
    _kaiming_gain(student, int(rng.integers(400, 600)), int(rng.integers(30, 100)),
                  int(rng.integers(1, 2**31)))


def _dropout_rate(student, seed, value):
    student.exec(f"{IMPORT}\ny = Dropout(0.2, rng=np.random.default_rng({seed}))"
                 f"(Tensor(np.full((200, 100), {value})))")
    y = student.array("y")
    dropped = float(np.mean(y == 0))
    if not 0.18 < dropped < 0.22:
        raise AssertionError(f"{dropped:.1%} of the inputs were dropped, expected about 20%")
    assert_array(np.unique(y[y != 0]), [value / 0.8],
                 what=f"the kept values ({value} / (1 - 0.2))")


@check("layers.dropout.rate", "Dropout(0.2) drops about 20% and scales the rest by 1.25",
       "hidden")
def test_dropout_rate(student, rng):
    _dropout_rate(student, 3, 3.0)
    _dropout_rate(student, int(rng.integers(4, 2**31)), round(float(rng.uniform(0.5, 5)), 2))


def _parameters_once(student, n, n_out):
    student.exec(f"{IMPORT}\nshared = Linear({n}, {n})\nmodel = Sequential(shared, shared, "
                 f"Linear({n}, {n_out}))")
    assert_equal(student.eval("sorted(list(p.shape) for p in model.parameters())"),
                 sorted([[n_out], [n], [n, n_out], [n, n]]),
                 what=f"the sorted shapes of model.parameters() (Linear({n}, {n}) used twice, "
                      f"then Linear({n}, {n_out}))")


@check("layers.module.parameters_once", "a layer used twice in a model has its parameters "
       "listed once", "hidden")
def test_parameters_once(student, rng):
    _parameters_once(student, 3, 1)
    _parameters_once(student, *_sizes(rng, 2))


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


@check("layers.dropout.seeded", "Dropout draws from its own rng (or the seeded module generator), "
       "so seeds reproduce masks, and each call draws a new mask", "hidden")
def test_dropout_seeded(student, rng):
    seed = int(rng.integers(2**31))
    student.exec(f"{IMPORT}\nx = Tensor(np.ones((40, 50)))\nouts = {{}}\n"
                 f"for name, module_seed in (('a', 1), ('b', 2)):\n"
                 "    manual_seed(module_seed)\n"
                 f"    layer = Dropout(0.3, rng=np.random.default_rng({seed}))\n"
                 "    outs[name] = [layer(x), layer(x)]\n"
                 "for name in ('c', 'd'):\n"
                 f"    manual_seed({seed})\n    layer = Dropout(0.3)\n"
                 "    outs[name] = [layer(x), layer(x)]")
    outs = dict(zip("abcd", results(student, "[outs[name] for name in 'abcd']", 4)))
    for first, second, why in (("a", "b", "Dropout(0.3, rng=default_rng(s)) must draw from that "
                                "rng, whatever manual_seed said before"),
                               ("c", "d", "Dropout(0.3) after manual_seed(s) must draw the "
                                "same masks every time")):
        for call in (0, 1):
            assert_array(outs[second][call], outs[first][call], rtol=0, atol=0,
                         what=f"call {call + 1} of the second layer ({why})")
    for name in "ac":
        if np.array_equal(outs[name][0], outs[name][1]):
            raise AssertionError("two calls of the same Dropout layer dropped exactly the same "
                                 "inputs: draw a new mask on every call")


@check("layers.dropout.p_values", "Dropout(p) drops a fraction p and scales the rest by "
       "1 / (1 - p), for several p, keeping the input's float32 dtype", "hidden")
def test_dropout_p_values(student, rng):
    rates = np.round(np.concatenate([[0.1, 0.75], rng.uniform(0.05, 0.9, size=2)]), 3)
    x = np.abs(floats(rng, (100, 60))) + np.float32(0.5)
    student.exec(f"{IMPORT}\nx = Tensor({literal(x)})\n"
                 f"ys = [Dropout(p, rng=np.random.default_rng({int(rng.integers(2**31))}))(x) "
                 f"for p in {rates.tolist()}]")
    for p, y in zip(rates, results(student, "ys", len(rates))):
        dropped = float(np.mean(y == 0))
        if abs(dropped - p) > 4 * np.sqrt(p * (1 - p) / x.size):
            raise AssertionError(f"Dropout({p}) dropped {dropped:.1%} of the inputs")
        kept = y != 0
        assert_array(y[kept], x[kept] / (1 - p), rtol=1e-5, dtype=x.dtype,
                     what=f"the kept values of Dropout({p}) (x / (1 - p)) of a float32 input")


@check("layers.flatten.ranks", "Flatten turns (batch, ...) of any rank into (batch, rest), "
       "batch 1 and 2-D inputs included", "hidden")
def test_flatten_ranks(student, rng):
    cases = Cases(f"{IMPORT}\nfrom tinytorch.core.layers import Flatten")
    for shape in ((1, 3, 4, 2), (3, 5), (2, 3, 4), (2, 1, 3, 2, 2), (4, 1)):
        x = floats(rng, shape)
        cases.expect(f"Flatten()({cases.tensor(x)})", x.reshape(shape[0], -1),
                     f"Flatten() of shape {shape}")
    cases.check(student, rtol=0, atol=0)


KAIMING_SPECS = [((300, 40), 40, 1.0), ((64, 3, 5, 5), 75, 2.0), ((2000,), 10, 0.5)]


@check("layers.kaiming.shapes", "kaiming_uniform gives float32 arrays of any shape inside "
       "+-gain * sqrt(3 / fan_in), reproducible from an rng", "hidden")
def test_kaiming_shapes(student, rng):
    seed = int(rng.integers(2**31))
    student.exec(f"{IMPORT}\nspecs = {KAIMING_SPECS!r}\n"
                 f"draws = [kaiming_uniform(s, f, np.random.default_rng({seed}), gain=g) "
                 "for s, f, g in specs]\n"
                 f"again = [kaiming_uniform(s, f, np.random.default_rng({seed}), gain=g) "
                 "for s, f, g in specs]")
    draws = zip(KAIMING_SPECS, *(results(student, name, len(KAIMING_SPECS))
                                for name in ("draws", "again")))
    for (shape, fan_in, gain), w, w2 in draws:
        what = f"kaiming_uniform({shape}, {fan_in}, rng, gain={gain})"
        assert_equal([list(w.shape), str(w.dtype)], [list(shape), "float32"],
                     what=f"[shape, dtype] of {what}")
        bound = gain * np.sqrt(3 / fan_in)
        if np.abs(w).max() > bound * 1.0001 or np.abs(w).max() < bound * 0.97:
            raise AssertionError(f"{what} reaches {np.abs(w).max():.4f}; uniform in "
                                 f"+-{bound:.4f} comes close to the bound")
        assert_array(w2, w, rtol=0, atol=0, what=f"{what} drawn again from the same seed")


@check("layers.graph.reaches_parameters", "a layer's output leads autograd back to its input and "
       "every parameter (Linear with and without bias, Flatten, Dropout while training, "
       "Sequential)", "hidden")
def test_graph_reaches_parameters(student, rng):
    x, images = floats(rng, (4, 3)), floats(rng, (2, 3, 2, 2))
    setup = (f"{IMPORT}\nfrom tinytorch.core.activations import ReLU\n"
             "from tinytorch.core.layers import Flatten\n"
             f"x = Tensor({literal(x)}, requires_grad=True)\n"
             f"images = Tensor({literal(images)}, requires_grad=True)\n"
             "plain, bare = Linear(3, 5), Linear(3, 2, bias=False)\n"
             "model = Sequential(Linear(12, 4), ReLU(), Linear(4, 2))\n"
             "def named(**found):\n    return found")
    probes = [("_reaches(plain(x), named(x=x, weight=plain.weight, bias=plain.bias))",
               ["bias", "weight", "x"], "Linear(3, 5)(x)"),
              ("_reaches(bare(x), named(x=x, weight=bare.weight))", ["weight", "x"],
               "Linear(3, 2, bias=False)(x)"),
              ("_reaches(Flatten()(images), named(images=images))", ["images"],
               "Flatten()(images)"),
              ("_reaches(Dropout(0.5, rng=np.random.default_rng(0))(x), named(x=x))", ["x"],
               "Dropout(0.5)(x) while training"),
              ("_reaches(model(Flatten()(images)), named(images=images, w0=model[0].weight, "
               "b0=model[0].bias, w2=model[2].weight, b2=model[2].bias))",
               ["b0", "b2", "images", "w0", "w2"], "Sequential(Linear, ReLU, Linear)")]
    assert_recorded(student, setup, [(expr, expected, f"the leaves {what} leads back to")
                                     for expr, expected, what in probes])
