"""Module 07 - Autograd: hidden checks (graders only): more ops, graph shapes, deep graphs."""

import numpy as np

from workers.checkpoints import assert_equal, check, ratio_to_reference
from workers.checkpoints.perf import Workload
from workers.checkpoints.public.test_07_autograd import (IMPORT, W, X, assert_grads, leaf,
                                                        numeric_grad)


@check("autograd.unbroadcast.keepdims", "(3, 1) + (1, 4) and (2, 1, 3) * (4, 1) give each "
       "input a gradient of its own shape", "hidden")
def test_unbroadcast_keepdims(student):
    col, row = np.array([[1.0], [2.0], [3.0]]), np.array([[0.5, -1.0, 2.0, 0.0]])
    a, b = np.linspace(-1, 1, 6).reshape(2, 1, 3), np.array([[2.0], [-1.0], [0.5], [3.0]])
    student.exec(f"{IMPORT}\n{leaf('col', col)}{leaf('row', row)}{leaf('a', a)}{leaf('b', b)}"
                 "((col + row) ** 2).sum().backward()\n(a * b).sum().backward()")
    assert_grads(student, {"col": (2 * (col + row)).sum(axis=1, keepdims=True),
                           "row": (2 * (col + row)).sum(axis=0, keepdims=True),
                           "a": np.broadcast_to(b.sum(), a.shape),
                           "b": np.full(b.shape, a.sum())})


@check("autograd.getitem.grad", "indexing sends gradients back to the picked elements, adding "
       "up a row picked twice", "hidden")
def test_getitem_grad(student):
    student.exec(f"{IMPORT}\n{leaf('e', X)}{leaf('s', X)}"
                 "(e[np.array([1, 0, 1])] * Tensor([[1.0] * 3, [2.0] * 3, [3.0] * 3]))"
                 ".sum().backward()\n(s[1:, ::2] * 4.0).sum().backward()")
    assert_grads(student, {"e": [[2.0] * 3, [4.0] * 3],
                           "s": [[0.0, 0.0, 0.0], [4.0, 0.0, 4.0]]})


@check("autograd.max.ties", "max() splits the gradient equally between tied largest "
       "elements", "hidden")
def test_max_ties(student):
    student.exec(f"{IMPORT}\n{leaf('x', [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])}"
                 f"x.max(axis=1).sum().backward()\n{leaf('y', [4.0, 1.0, 4.0])}"
                 "y.max().backward()")
    assert_grads(student, {"x": [[0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]], "y": [0.5, 0.0, 0.5]})


@check("autograd.matmul.vectors", "vector @ matrix and matrix @ vector give both operands "
       "gradients of their own shapes", "hidden")
def test_matmul_vectors(student):
    v, m, u = np.array([1.0, -2.0]), X, np.array([0.5, 1.0, -1.5])
    student.exec(f"{IMPORT}\n{leaf('v', v)}{leaf('m', m)}{leaf('u', u)}{leaf('n', m)}"
                 "((v @ m) * Tensor([1.0, 2.0, 3.0])).sum().backward()\n"
                 "((n @ u) * Tensor([2.0, -1.0])).sum().backward()")
    g, h = np.array([1.0, 2.0, 3.0]), np.array([2.0, -1.0])
    assert_grads(student, {"v": m @ g, "m": np.outer(v, g), "u": m.T @ h, "n": np.outer(h, u)})


@check("autograd.graph.shared", "backward() visits each node once: 40 steps of y = y + y "
       "finish at once", "hidden")
def test_graph_shared(student):
    student.exec(f"{IMPORT}\n{leaf('x', [1.0])}y = x\nfor _ in range(40):\n    y = y + y\n")
    student.exec("y.sum().backward()", timeout=5)
    assert_grads(student, {"x": [2.0 ** 40]})


@check("autograd.shape_ops.grad", "reshape and transpose route gradients back to the original "
       "layout", "hidden")
def test_shape_ops_grad(student):
    g = np.arange(6.0).reshape(2, 3)
    student.exec(f"{IMPORT}\n{leaf('x', X)}"
                 f"(x.reshape(3, 2).transpose() * Tensor({g.tolist()})).sum().backward()")
    assert_grads(student, {"x": g.T.reshape(2, 3)})


@check("autograd.math.grad", "exp, log, sqrt and ** 3 have the right derivatives", "hidden")
def test_math_grad(student):
    x = np.abs(X) + 0.5

    def f(v):
        return np.sum(np.exp(v) * W + np.log(v) - np.sqrt(v) * 2 + v ** 3)

    student.exec(f"{IMPORT}\n{leaf('x', x)}"
                 f"(x.exp() * Tensor({W.tolist()}) + x.log() - x.sqrt() * 2.0 + x ** 3)"
                 ".sum().backward()")
    assert_grads(student, {"x": numeric_grad(f, x)}, rtol=1e-4, atol=1e-4)


@check("autograd.softmax.grad", "Softmax and LogSoftmax pass back their Jacobian-vector "
       "products", "hidden")
def test_softmax_grad(student):
    student.exec(f"{IMPORT}\nfrom tinytorch.core.activations import Softmax, LogSoftmax\n"
                 f"{leaf('s', X)}{leaf('l', X)}w = Tensor({W.tolist()})\n"
                 "(Softmax()(s) * w).sum().backward()\n(LogSoftmax()(l) * w).sum().backward()")
    e = np.exp(X - X.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    assert_grads(student, {"s": p * (W - (W * p).sum(axis=1, keepdims=True)),
                           "l": W - p * W.sum(axis=1, keepdims=True)})


@check("autograd.bce.grad", "BinaryCrossEntropyLoss passes back (p - y) / (p (1 - p)) / n",
       "hidden")
def test_bce_grad(student):
    p, y = np.array([[0.9, 0.2], [0.6, 0.05]]), np.array([[1.0, 0.0], [0.0, 1.0]])
    student.exec(f"{IMPORT}\nfrom tinytorch.core.losses import BinaryCrossEntropyLoss\n"
                 f"{leaf('p', p)}BinaryCrossEntropyLoss()(p, Tensor({y.tolist()})).backward()")
    assert_grads(student, {"p": (p - y) / (p * (1 - p)) / p.size})


@check("autograd.graph.diamond", "a value used by two later ops gets both gradients before "
       "passing them on", "hidden")
def test_graph_diamond(student):
    student.exec(f"{IMPORT}\n{leaf('x', X)}y = x * 2.0\nz = y * y + y.exp()\n"
                 "z.sum().backward()")
    y = 2 * X
    assert_grads(student, {"x": (2 * y + np.exp(y)) * 2})


@check("autograd.grad.leaves_only", "backward() fills .grad of leaf tensors only, not of "
       "intermediate results", "hidden")
def test_leaves_only(student):
    student.exec(f"{IMPORT}\n{leaf('x', X)}y = x * 2.0\n(y * y).sum().backward()")
    assert_grads(student, {"x": 8 * X})
    assert_equal(student.eval("y.grad is None"), True, what="y.grad is None (y = x * 2)")


@check("autograd.grad.own_arrays", "each leaf gets its own writable .grad array: scaling "
       "one in place leaves the others alone", "hidden")
def test_grad_own_arrays(student):
    student.exec(f"{IMPORT}\n{leaf('a', X)}{leaf('b', X)}{leaf('c', X)}"
                 "(a + b).sum().backward()\n(c * 1.0).sum().backward()\n"
                 "a.grad *= 2.0\nc.grad *= 3.0")
    assert_grads(student, {"a": np.full_like(X, 2.0), "b": np.ones_like(X),
                           "c": np.full_like(X, 3.0)})


@check("autograd.layers.linear_grad", "a Linear layer's weight and bias get the gradients of "
       "an MSE loss", "hidden")
def test_linear_grad(student):
    target = W[:, :2]
    student.exec(f"{IMPORT}\nfrom tinytorch.core.layers import Linear\n"
                 "from tinytorch.core.losses import MSELoss\nlayer = Linear(3, 2)\n"
                 f"x = Tensor({X.tolist()})\n"
                 f"MSELoss()(layer(x), Tensor({target.tolist()})).backward()")
    weight, bias = student.array("layer.weight"), student.array("layer.bias")
    upstream = 2 * (X @ weight + bias - target) / target.size
    assert_grads(student, {"layer.weight": X.T @ upstream, "layer.bias": upstream.sum(axis=0)})


DEEP = 10_000


@check("autograd.graph.deep", "backward() through a graph 10,000 ops deep works (no "
       "RecursionError) and is timed against the reference", "hidden")
def test_graph_deep(student, reference, rng):
    build = (f"def chain(x):\n    y = x\n    for _ in range({DEEP}):\n        y = y * 1.0001\n"
             "    return y.sum()\n")
    student.exec(f"{IMPORT}\n{build}{leaf('x', [1.0, 2.0])}chain(x).backward()")
    assert_grads(student, {"x": np.full(2, 1.0001 ** DEEP)}, rtol=1e-3, atol=0)
    # timed: one backward through a chain built (untimed) on fresh inputs each repetition
    work = Workload(f"{IMPORT}\n{build.replace('1.0001', 'rate')}",
                    lambda rng: {"start": rng.normal(size=2), "rate": 1 + rng.uniform(-1e-4, 1e-4)},
                    "(root.backward(), x.grad)[1]", rtol=1e-3,
                    prepare="x = Tensor(start, requires_grad=True)\nroot = chain(x)",
                    what=f"x.grad after backward() through {DEEP:,} ops")
    ratio_to_reference(student, reference, rng, work, repeat=3)
