"""Module 07 - Autograd: public checks (shipped to students with the starter).

Each check builds a small graph with the student's code, calls ``backward()`` there, and
asks the runner for the leaves' ``.grad``.  The expected gradients are computed here, with
NumPy in float64: in closed form, or by central finite differences of the same function
written in NumPy (never with the student's code).  The hidden checks import the helpers.
"""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check
from harness.checkpoints.inputs import (Cases, _sizes, broadcast_pairs, fixed, floats, literal,
                                        matmul_pairs)

IMPORT = ("from tinytorch.core.tensor import Tensor\n"
          "from tinytorch.core.autograd import no_grad")
X = np.array([[0.5, -1.0, 2.0], [-0.3, 1.5, -2.5]])
W = np.array([[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]])
TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}


def leaf(name, values):
    """Runner code that makes ``name`` a float32 leaf tensor that requires grad."""
    return f"{name} = Tensor({np.asarray(values).tolist()}, requires_grad=True)\n"


def grads(student, *names):
    """The student's ``.grad`` of each named tensor, asked for through the runner."""
    found = []
    for name in names:
        value = student.eval(name, with_grad=True)
        if type(value) is not dict or "grad" not in value:
            raise AssertionError(f"`{name}` should be a Tensor, got {type(value).__name__}")
        if value["grad"] is None:
            raise AssertionError(f"{name}.grad is None after backward()")
        found.append(value["grad"])
    return found


def numeric_grad(f, x, eps=1e-6):
    """d f / d x by central differences, in float64."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = eps
        grad[i] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


def numeric_gradients(forward):
    """``add_graph``'s gradient function for ``forward`` (NumPy, float64): central differences
    of sum(upstream * forward(...)) with respect to each input."""
    def gradients(upstream, *inputs):
        return tuple(numeric_grad(lambda v, i=i: np.sum(upstream * forward(
            *inputs[:i], v, *inputs[i + 1:])), inputs[i]) for i in range(len(inputs)))
    return gradients


def assert_grads(student, expected, **tolerance):
    """Compare ``{tensor name: expected gradient}`` with the student's ``.grad``."""
    got = grads(student, *expected)
    for (name, want), value in zip(expected.items(), got):
        assert_array(value, want, what=f"{name}.grad", **(tolerance or TOLERANCE))


@check("autograd.add.broadcast", "a + b with b broadcast over rows: b.grad is summed back to "
       "b's shape", "public")
def test_add_broadcast(student, rng):
    student.exec(f"{IMPORT}\n{leaf('a', X)}{leaf('b', [1.0, 2.0, 3.0])}"
                 f"((a + b) * Tensor({W.tolist()})).sum().backward()")
    assert_grads(student, {"a": W, "b": W.sum(axis=0)})
    cases, (rows, cols) = Cases(IMPORT), _sizes(rng, 2)
    add_graph(cases, rng, "{0} + {1}", [floats(rng, (rows, cols)), floats(rng, cols)], np.add,
              lambda g, a, b: (g, g.sum(axis=0)), f"a + b with shapes {(rows, cols)} and {(cols,)}")
    cases.check(student, **TOLERANCE)


@check("autograd.arith.grad", "gradients of *, / and - through a small formula match finite "
       "differences", "public")
def test_arith_grad(student, rng):
    y0 = np.array([[1.0, 0.5, -0.5], [2.0, -1.5, 0.25]])

    def f(x, y):
        return np.mean((x * y - x / (y + 3.0)) ** 2)

    student.exec(f"{IMPORT}\n{leaf('x', X)}{leaf('y', y0)}"
                 "((x * y - x / (y + 3.0)) ** 2).mean().backward()")
    assert_grads(student, {"x": numeric_grad(lambda v: f(v, y0), X),
                           "y": numeric_grad(lambda v: f(X, v), y0)})
    cases, shape = Cases(IMPORT), tuple(_sizes(rng, 2))
    add_graph(cases, rng, "(({0} * {1} - {0} / ({1} + 3.0)) ** 2).mean()",
              [floats(rng, shape), rng.uniform(-1.5, 2.0, shape).astype(np.float32)], f,
              numeric_gradients(f), f"((x * y - x / (y + 3)) ** 2).mean() for shape {shape}")
    cases.check(student, **TOLERANCE)


@check("autograd.matmul.grad", "a @ b: a.grad = G @ b.T and b.grad = a.T @ G", "public")
def test_matmul_grad(student, rng):
    b = np.arange(12.0).reshape(3, 4) / 6 - 1
    g = np.linspace(-1, 1, 8).reshape(2, 4)
    student.exec(f"{IMPORT}\n{leaf('a', X)}{leaf('b', b)}"
                 f"((a @ b) * Tensor({g.tolist()})).sum().backward()")
    assert_grads(student, {"a": g @ b.T, "b": X.T @ g})
    cases, (m, k, n) = Cases(IMPORT), _sizes(rng, 3)
    add_graph(cases, rng, "{0} @ {1}", [floats(rng, (m, k)), floats(rng, (k, n))], np.matmul,
              lambda g, a, b: (g @ b.T, a.T @ g), f"a @ b with shapes {(m, k)} and {(k, n)}")
    cases.check(student, **TOLERANCE)


@check("autograd.reductions.grad", "sum(axis=0), mean(axis=1, keepdims=True) and max(axis=1) "
       "send gradients to the right elements", "public")
def test_reductions_grad(student, rng):
    student.exec(f"{IMPORT}\n{leaf('s', X)}{leaf('m', X)}{leaf('x', X)}"
                 "(s.sum(axis=0) * Tensor([1.0, 2.0, 3.0])).sum().backward()\n"
                 "(m.mean(axis=1, keepdims=True) * Tensor([[2.0], [-1.0]])).sum().backward()\n"
                 "(x.max(axis=1) * Tensor([5.0, -2.0])).sum().backward()")
    assert_grads(student, {"s": np.tile([1.0, 2.0, 3.0], (2, 1)),
                           "m": np.repeat([[2.0 / 3], [-1.0 / 3]], 3, axis=1),
                           "x": [[0.0, 0.0, 5.0], [0.0, -2.0, 0.0]]})
    cases, shape = Cases(IMPORT), tuple(_sizes(rng, 2))
    x = (rng.permutation(shape[0] * shape[1]).reshape(shape) / 4).astype(np.float32)  # no ties
    for form, value, rule in (
            ("sum(axis=0)", lambda v: v.sum(axis=0), lambda g, v: np.broadcast_to(g, v.shape)),
            ("mean(axis=1, keepdims=True)", lambda v: v.mean(axis=1, keepdims=True),
             lambda g, v: np.broadcast_to(g / v.shape[1], v.shape)),
            ("max(axis=1)", lambda v: v.max(axis=1),
             lambda g, v: g[:, None] * (v == v.max(axis=1, keepdims=True)))):
        add_graph(cases, rng, f"{{0}}.{form}", [x], value,
                  lambda g, v: (rule(g, v),), f"x.{form} for x of shape {shape}")  # noqa: B023
    cases.check(student, **TOLERANCE)


@check("autograd.activations.grad", "ReLU, Sigmoid, Tanh and GELU pass back the right "
       "derivative (ReLU: 0 for x < 0)", "public")
def test_activations_grad(student, rng):
    def gelu(x):
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))

    student.exec(f"{IMPORT}\nfrom tinytorch.core.activations import ReLU, Sigmoid, Tanh, GELU\n"
                 + "".join(leaf(n, X) for n in ("r", "s", "t", "g"))
                 + f"w = Tensor({W.tolist()})\n"
                 "for f, x in ((ReLU(), r), (Sigmoid(), s), (Tanh(), t), (GELU(), g)):\n"
                 "    (f(x) * w).sum().backward()")
    sig = 1 / (1 + np.exp(-X))
    assert_grads(student, {"r": W * (X > 0), "s": W * sig * (1 - sig),
                           "t": W * (1 - np.tanh(X) ** 2),
                           "g": numeric_grad(lambda v: np.sum(gelu(v) * W), X)})
    cases = Cases(f"{IMPORT}\nfrom tinytorch.core.activations import ReLU, Sigmoid, Tanh, GELU")
    x = floats(rng, tuple(_sizes(rng, 2)), scale=2.0)
    for layer, forward in (("ReLU", lambda v: np.maximum(v, 0)),
                           ("Sigmoid", lambda v: 1 / (1 + np.exp(-v))), ("Tanh", np.tanh),
                           ("GELU", gelu)):
        add_graph(cases, rng, f"{layer}()({{0}})", [x], forward, numeric_gradients(forward),
                  f"{layer}()(x) for x of shape {x.shape}")
    cases.check(student, **TOLERANCE)


@check("autograd.losses.grad", "CrossEntropyLoss passes back (softmax - one-hot) / batch and "
       "MSELoss 2 (p - t) / n", "public")
def test_losses_grad(student, rng):
    labels, target = [2, 0], W / 2
    student.exec(f"{IMPORT}\nfrom tinytorch.core.losses import CrossEntropyLoss, MSELoss\n"
                 f"{leaf('logits', X)}{leaf('p', X)}"
                 f"CrossEntropyLoss()(logits, {labels}).backward()\n"
                 f"MSELoss()(p, Tensor({target.tolist()})).backward()")
    e = np.exp(X - X.max(axis=1, keepdims=True))
    probs = e / e.sum(axis=1, keepdims=True)
    assert_grads(student, {"logits": (probs - np.eye(3)[labels]) / 2,
                           "p": 2 * (X - target) / X.size})
    cases = Cases(f"{IMPORT}\nfrom tinytorch.core.losses import CrossEntropyLoss, MSELoss")
    (batch, classes), shape = _sizes(rng, 2), tuple(_sizes(rng, 2))
    labels, target = rng.integers(classes, size=batch), floats(rng, shape)

    def cross_entropy(v):
        z = v - v.max(axis=1, keepdims=True)
        return -np.mean((z - np.log(np.exp(z).sum(axis=1, keepdims=True)))[np.arange(batch),
                                                                            labels])

    add_graph(cases, rng, f"CrossEntropyLoss()({{0}}, {labels.tolist()})",
              [floats(rng, (batch, classes))], cross_entropy, numeric_gradients(cross_entropy),
              f"CrossEntropyLoss of ({batch}, {classes}) logits, labels {labels.tolist()}")
    add_graph(cases, rng, f"MSELoss()({{0}}, {cases.tensor(target)})", [floats(rng, shape)],
              lambda p: np.mean((p - target) ** 2), lambda g, p: (2 * g * (p - target) / p.size,),
              f"MSELoss of shape {shape}")
    cases.check(student, **TOLERANCE)


@check("autograd.grad.accumulates", "x * x gives 2x, a second backward() adds to .grad, and "
       ".grad is a NumPy array", "public")
def test_grad_accumulates(student, rng):
    student.exec(f"{IMPORT}\n{leaf('x', X)}(x * x).sum().backward()")
    assert_grads(student, {"x": 2 * X})
    assert_equal(student.eval("type(x.grad).__module__ + '.' + type(x.grad).__name__"),
                 "numpy.ndarray", what="the type of x.grad")
    student.exec("(x * 3.0).sum().backward()")
    assert_grads(student, {"x": 2 * X + 3})
    cases, x = Cases(IMPORT), floats(rng, tuple(_sizes(rng, 2)))
    scale, name = round(float(rng.uniform(-4, 4)), 3), cases.tensor(x, grad=True)
    cases.run(f"({name} * {name}).sum().backward()\n({name} * {scale}).sum().backward()")
    cases.expect(f"{name}.grad", 2 * x.astype(np.float64) + scale,
                 f"x.grad after (x * x).sum() and (x * {scale}).sum() for x of shape {x.shape}")
    cases.check(student, **TOLERANCE)


@check("autograd.no_grad.records_nothing", "under no_grad() results do not require grad; "
       "afterwards gradients flow again", "public")
def test_no_grad(student, rng):
    student.exec(f"{IMPORT}\n{leaf('x', X)}with no_grad():\n    y = (x * 2.0).sum()\n"
                 "z = (x * 2.0).sum()\nz.backward()")
    assert_equal(student.eval("bool(y.requires_grad)"), False,
                 what="(x * 2).sum().requires_grad under no_grad()")
    assert_grads(student, {"x": np.full_like(X, 2.0)})
    cases, x = Cases(IMPORT), floats(rng, tuple(_sizes(rng, 2)))
    scale, name = round(float(rng.uniform(-4, 4)), 3), cases.tensor(x, grad=True)
    cases.run(f"with no_grad():\n    y = ({name} * {scale}).sum()\n"
              f"({name} * {scale} + {name}).sum().backward()")
    cases.expect("np.array([y.requires_grad], dtype=float)", [0.0],
                 "y.requires_grad (0: False) for y = (x * c).sum() under no_grad()")
    cases.expect(f"{name}.grad", np.full(x.shape, scale + 1.0),
                 f"x.grad after no_grad() for (x * {scale} + x).sum()")
    cases.check(student, **TOLERANCE)


@check("autograd.backward.explicit_grad", "y.backward(g) on a non-scalar y uses g; "
       "y.backward() on it raises RuntimeError", "public")
def test_backward_explicit_grad(student, rng):
    student.exec(f"{IMPORT}\n{leaf('x', X)}y = x * 3.0\ny.backward(np.array({W.tolist()}))")
    assert_grads(student, {"x": 3 * W})
    student.raises("(x * 3.0).backward()", "RuntimeError")
    cases, shape = Cases(IMPORT), tuple(_sizes(rng, 2))
    x, upstream, scale = floats(rng, shape), floats(rng, shape), round(float(rng.uniform(-4, 4)), 3)
    name = cases.tensor(x, grad=True)
    cases.run(f"({name} * {scale}).backward({literal(upstream)})")
    cases.expect(f"{name}.grad", scale * upstream.astype(np.float64),
                 f"x.grad after (x * {scale}).backward(g) for shape {shape}")
    cases.check(student, **TOLERANCE)
    student.raises(f"({name} * {scale}).backward()", "RuntimeError")


def sum_to(grad, shape):
    """``grad`` summed over the axes broadcasting added or stretched, back to ``shape``."""
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    return grad.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


def add_graph(cases, rng, forward, inputs, value, gradients, what):
    """Add one graph to ``cases``: leaves holding ``inputs``, ``(forward * upstream).sum()
    .backward()`` with a random upstream gradient (``forward``: runner code over ``{0}``,
    ``{1}``...), and the expected ``.grad`` of each leaf, ``gradients(upstream, *inputs)``;
    ``value(*inputs)`` is the forward result computed here (for the upstream's shape).
    Each ``.grad`` must also keep its leaf's dtype: a float64 constant or buffer in a rule
    must not turn float32 gradients into float64."""
    names = [cases.tensor(a, grad=True) for a in inputs]
    upstream = floats(rng, np.shape(value(*inputs)))
    cases.run(f"(({forward.format(*names)}) * {cases.tensor(upstream)}).sum().backward()")
    wide = [np.asarray(a, dtype=np.float64) for a in inputs]
    for index, (name, grad) in enumerate(zip(names, gradients(upstream.astype(np.float64),
                                                              *wide))):
        cases.expect(f"np.asarray({name}.grad)", grad, f"{what}: the gradient of input {index}",
                     dtype=np.asarray(inputs[index]).dtype)


BROADCAST_RULES = {   # runner code, forward here, input gradients here
    "{0} + {1}": (np.add, lambda g, a, b: (sum_to(g, a.shape), sum_to(g, b.shape))),
    "{0} - {1}": (np.subtract, lambda g, a, b: (sum_to(g, a.shape), sum_to(-g, b.shape))),
    "{0} * {1}": (np.multiply, lambda g, a, b: (sum_to(g * b, a.shape), sum_to(g * a, b.shape))),
    "{0} / {1}": (np.divide, lambda g, a, b: (sum_to(g / b, a.shape),
                                              sum_to(-g * a / b ** 2, b.shape)))}


@check("autograd.broadcast.shapes", "+, -, * and / give each input a gradient of its own shape "
       "when broadcasting stretched leading, trailing or size-1 axes", "public")
def test_broadcast_shapes(student, rng):
    for generator in (fixed(71), rng):
        cases = Cases(IMPORT)
        for left, right in broadcast_pairs(generator):
            a, b = floats(generator, left), np.abs(floats(generator, right)) + np.float32(0.5)
            for form, (value, gradients) in BROADCAST_RULES.items():
                add_graph(cases, generator, form, [a, b], value, gradients,
                          f"{form.format('a', 'b')} with shapes {left} and {right}")
        cases.check(student, **TOLERANCE)


def matmul_gradients(g, a, b):
    """Gradients of sum(g * (a @ b)); a 1-D operand is a row (left) or column (right)."""
    left = a[None, :] if a.ndim == 1 else a
    right = b[:, None] if b.ndim == 1 else b
    g = np.expand_dims(g, -1) if b.ndim == 1 else g
    g = np.expand_dims(g, -2) if a.ndim == 1 else g
    return (sum_to(g @ np.swapaxes(right, -1, -2), left.shape).reshape(a.shape),
            sum_to(np.swapaxes(left, -1, -2) @ g, right.shape).reshape(b.shape))


@check("autograd.matmul.shapes", "a @ b passes back gradients of the right shape for vectors, "
       "wide and tall matrices and batches on either or both sides", "public")
def test_matmul_shapes(student, rng):
    for generator in (fixed(72), rng):
        cases = Cases(IMPORT)
        for left, right in matmul_pairs(generator):
            add_graph(cases, generator, "{0} @ {1}", [floats(generator, left),
                                                       floats(generator, right)],
                      np.matmul, matmul_gradients, f"a @ b with shapes {left} and {right}")
        cases.check(student, **TOLERANCE)
