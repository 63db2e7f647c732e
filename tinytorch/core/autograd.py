"""Module 07 - Autograd: reverse-mode automatic differentiation.

Every op a tensor goes through (module 02 onwards) leaves a ``Context`` on its result: the
op's name, its input tensors, its output array and whatever the forward saved. This module
holds one gradient rule per op and the engine that applies them in reverse topological
order, from the loss back to every parameter.

A gradient rule receives ``grad`` (dLoss/dOutput, shaped like the output) and the context,
and returns dLoss/dInput for each input, shaped like that input. Broadcasting in the forward
pass means summing in the backward pass: ``unbroadcast`` does that.

Systems cost:
    memory  - the graph keeps every intermediate output alive until ``backward`` runs, so a
              training step needs roughly (parameters + activations) * 2 floats; that is why
              ``no_grad`` matters for evaluation and generation.
    compute - one backward pass costs about twice the forward pass (matmul needs two
              matmuls to produce both input gradients).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np

_grad_enabled = True
GRADIENTS: dict = {}


@dataclass(eq=False)
class Context:
    """What backward needs to know about one op application."""

    op: str
    parents: tuple
    out: np.ndarray
    saved: dict = field(default_factory=dict)


def is_grad_enabled() -> bool:
    return _grad_enabled


@contextlib.contextmanager
def no_grad():
    """Run ops without recording them: evaluation and generation need no graph."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


def gradient(op: str):
    """Register ``fn(grad, ctx) -> tuple of input grads`` as the backward rule of ``op``."""

    def register(fn):
        GRADIENTS[op] = fn
        return fn

    return register


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, back to ``shape``."""
    ### BEGIN SOLUTION
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad
    ### END SOLUTION


def topological_order(root) -> list:
    """Tensors that ``root`` depends on, each after all of its inputs.

    Iterative (an explicit stack, not recursion) so a graph 10,000 ops deep does not hit
    Python's recursion limit.
    """
    ### BEGIN SOLUTION
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        if node._ctx is not None:
            stack.extend((p, False) for p in node._ctx.parents if p.requires_grad and id(p) not in visited)
    return order
    ### END SOLUTION


def backward(root, grad=None) -> None:
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf that requires grad."""
    if not root.requires_grad:
        raise RuntimeError("backward() called on a tensor that does not require grad")
    if grad is None:
        if root.size != 1:
            raise RuntimeError(f"backward() without a gradient needs a scalar, got shape {root.shape}")
        grad = np.ones_like(root.data)
    grad = np.asarray(grad.data if hasattr(grad, "_ctx") else grad, dtype=root.dtype).reshape(root.shape)
    ### BEGIN SOLUTION
    grads = {id(root): grad}
    for node in reversed(topological_order(root)):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        ctx = node._ctx
        if ctx is None:  # a leaf: parameters and inputs keep their gradient
            node.grad = g.copy() if node.grad is None else node.grad + g
            continue
        rule = GRADIENTS.get(ctx.op)
        if rule is None:
            raise NotImplementedError(f"no gradient rule registered for op '{ctx.op}'")
        for parent, pg in zip(ctx.parents, rule(g, ctx)):
            if pg is None or not parent.requires_grad:
                continue
            key = id(parent)
            grads[key] = pg if key not in grads else grads[key] + pg
    ### END SOLUTION


# ------------------------------------------------------------------ tensor ops (02)
@gradient("add")
def _add(grad, ctx):
    ### BEGIN SOLUTION
    a, b = ctx.parents
    return unbroadcast(grad, a.shape), unbroadcast(grad, b.shape)
    ### END SOLUTION


@gradient("sub")
def _sub(grad, ctx):
    ### BEGIN SOLUTION
    a, b = ctx.parents
    return unbroadcast(grad, a.shape), unbroadcast(-grad, b.shape)
    ### END SOLUTION


@gradient("mul")
def _mul(grad, ctx):
    ### BEGIN SOLUTION
    a, b = ctx.parents
    return unbroadcast(grad * b.data, a.shape), unbroadcast(grad * a.data, b.shape)
    ### END SOLUTION


@gradient("div")
def _div(grad, ctx):
    ### BEGIN SOLUTION
    a, b = ctx.parents
    return unbroadcast(grad / b.data, a.shape), unbroadcast(-grad * ctx.out / b.data, b.shape)
    ### END SOLUTION


@gradient("neg")
def _neg(grad, ctx):
    ### BEGIN SOLUTION
    return (-grad,)
    ### END SOLUTION


@gradient("pow")
def _pow(grad, ctx):
    ### BEGIN SOLUTION
    (a,) = ctx.parents
    n = ctx.saved["exponent"]
    return (grad * n * a.data ** (n - 1),)
    ### END SOLUTION


@gradient("matmul")
def _matmul(grad, ctx):
    """Two matmuls; 1-D operands are treated as a row (left) or column (right) vector."""
    ### BEGIN SOLUTION
    a, b = ctx.parents
    A = a.data[None, :] if a.ndim == 1 else a.data
    B = b.data[:, None] if b.ndim == 1 else b.data
    G = np.expand_dims(grad, -1) if b.ndim == 1 else grad  # column first: a 1-D @ 1-D grad is 0-d
    G = np.expand_dims(G, -2) if a.ndim == 1 else G
    grad_a = unbroadcast(np.matmul(G, np.swapaxes(B, -1, -2)), A.shape).reshape(a.shape)
    grad_b = unbroadcast(np.matmul(np.swapaxes(A, -1, -2), G), B.shape).reshape(b.shape)
    return grad_a, grad_b
    ### END SOLUTION


@gradient("exp")
def _exp(grad, ctx):
    ### BEGIN SOLUTION
    return (grad * ctx.out,)
    ### END SOLUTION


@gradient("log")
def _log(grad, ctx):
    ### BEGIN SOLUTION
    return (grad / ctx.parents[0].data,)
    ### END SOLUTION


@gradient("sqrt")
def _sqrt(grad, ctx):
    ### BEGIN SOLUTION
    return (grad * 0.5 / ctx.out,)
    ### END SOLUTION


def _expand_reduced(grad, ctx):
    """Give a reduction's gradient back the reduced axes so it broadcasts over the input."""
    ### BEGIN SOLUTION
    axis, keepdims = ctx.saved["axis"], ctx.saved["keepdims"]
    if axis is not None and not keepdims:
        grad = np.expand_dims(grad, axis)
    return grad
    ### END SOLUTION


@gradient("sum")
def _sum(grad, ctx):
    ### BEGIN SOLUTION
    (a,) = ctx.parents
    return (np.broadcast_to(_expand_reduced(grad, ctx), a.shape),)
    ### END SOLUTION


@gradient("mean")
def _mean(grad, ctx):
    ### BEGIN SOLUTION
    (a,) = ctx.parents
    count = a.size // max(np.asarray(ctx.out).size, 1)
    return (np.broadcast_to(_expand_reduced(grad, ctx) / count, a.shape),)
    ### END SOLUTION


@gradient("max")
def _max(grad, ctx):
    """Ties share the gradient equally, so the rule stays a true subgradient."""
    ### BEGIN SOLUTION
    (a,) = ctx.parents
    out = _expand_reduced(ctx.out, ctx)
    mask = a.data == out
    share = mask / mask.sum(axis=ctx.saved["axis"], keepdims=True)
    return ((share * _expand_reduced(grad, ctx)).astype(grad.dtype, copy=False),)  # share is float64
    ### END SOLUTION


@gradient("reshape")
def _reshape(grad, ctx):
    ### BEGIN SOLUTION
    return (grad.reshape(ctx.parents[0].shape),)
    ### END SOLUTION


@gradient("transpose")
def _transpose(grad, ctx):
    ### BEGIN SOLUTION
    return (np.swapaxes(grad, ctx.saved["dim0"], ctx.saved["dim1"]),)
    ### END SOLUTION


def _is_basic_index(index) -> bool:
    """True for NumPy basic indexing (ints, slices, None, ...), which needs no slow ``np.add.at``."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice, type(None), type(Ellipsis))) for i in parts)


@gradient("getitem")
def _getitem(grad, ctx):
    """Scatter-add back: an index used twice (an embedding row) gets both gradients."""
    ### BEGIN SOLUTION
    (a,) = ctx.parents
    full = np.zeros_like(a.data)
    index = ctx.saved["index"]
    if _is_basic_index(index):  # slices and ints select each element at most once
        full[index] = grad
    else:
        np.add.at(full, index, grad)
    return (full,)
    ### END SOLUTION


# --------------------------------------------------------------- activations (03)
@gradient("relu")
def _relu(grad, ctx):
    ### BEGIN SOLUTION
    return (grad * (ctx.parents[0].data > 0),)
    ### END SOLUTION


@gradient("sigmoid")
def _sigmoid(grad, ctx):
    ### BEGIN SOLUTION
    return (grad * ctx.out * (1 - ctx.out),)
    ### END SOLUTION


@gradient("tanh")
def _tanh(grad, ctx):
    ### BEGIN SOLUTION
    return (grad * (1 - ctx.out**2),)
    ### END SOLUTION


@gradient("gelu")
def _gelu(grad, ctx):
    ### BEGIN SOLUTION
    x = ctx.parents[0].data
    c = np.sqrt(2 / np.pi).astype(x.dtype)
    x2 = x * x  # products, not powers: float32 ** takes NumPy's slow path
    t = np.tanh(c * (x + 0.044715 * x2 * x))
    d_inner = c * (1 + 3 * 0.044715 * x2)
    return (grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner),)
    ### END SOLUTION


@gradient("softmax")
def _softmax(grad, ctx):
    ### BEGIN SOLUTION
    s, dim = ctx.out, ctx.saved["dim"]
    return (s * (grad - (grad * s).sum(axis=dim, keepdims=True)),)
    ### END SOLUTION


@gradient("log_softmax")
def _log_softmax(grad, ctx):
    ### BEGIN SOLUTION
    dim = ctx.saved["dim"]
    return (grad - np.exp(ctx.out) * grad.sum(axis=dim, keepdims=True),)
    ### END SOLUTION


# -------------------------------------------------------------------- losses (05)
@gradient("cross_entropy")
def _cross_entropy(grad, ctx):
    """d/dlogits of mean cross-entropy is (softmax - smoothed one-hot) / batch."""
    ### BEGIN SOLUTION
    probs, target = ctx.saved["probs"], ctx.saved["target_dist"]
    return (grad * (probs - target) / probs.shape[0],)
    ### END SOLUTION


@gradient("binary_cross_entropy")
def _binary_cross_entropy(grad, ctx):
    ### BEGIN SOLUTION
    p, y = ctx.saved["clipped"], ctx.saved["target"]
    return (grad * (p - y) / (p * (1 - p)) / p.size,)
    ### END SOLUTION
