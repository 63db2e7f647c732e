"""Seeded inputs for the checkpoint suites, made on the trusted side, sent as exact literals.

A check draws its cases twice: from ``fixed(seed)`` (the same cases every run, so a student can
rerun a public failure) and from the ``rng`` fixture (new cases in every job, so answers tabled
for the fixed ones earn nothing).  Each generator covers a class of inputs, not one example:
batched operands on both sides, broadcasting on leading and trailing axes, wide and tall
matrices, size-1 dimensions, every axis with and without keepdims, logits near +-1000.

:class:`Cases` sends the inputs as exact literals, evaluates every expression in one round
trip and compares each result here with the value NumPy computed.
"""

import numpy as np

from harness.checkpoints.expect import assert_array
from harness.checkpoints.plugin import describe


def literal(array):
    """Code that rebuilds ``array`` exactly in the runner."""
    return f"np.array({array.tolist()!r}, dtype={array.dtype.str!r})"


def fixed(seed):
    """The generator behind a check's fixed cases."""
    return np.random.default_rng(seed)


def floats(rng, shape, scale=1.0, dtype=np.float32):
    """Normal values of ``shape`` rounded to ``dtype``, so the runner gets exactly these numbers."""
    return (rng.normal(size=shape) * scale).astype(dtype)


def _sizes(rng, count, low=2, high=6):
    """``count`` distinct sizes: a swapped pair of axes then shows up as a shape error."""
    return [int(n) for n in rng.choice(np.arange(low, high + count), size=count, replace=False)]


def broadcast_pairs(rng):
    """Shape pairs that broadcast: trailing and leading axes, size-1 axes, scalars, both ways."""
    b, m, n = _sizes(rng, 3)
    pairs = [((m, n), (n,)), ((m, n), (m, 1)), ((m, 1), (1, n)), ((b, 1, n), (m, 1)),
             ((b, m, n), (1, 1, n)), ((b, m, n), (b, 1, 1)), ((), (m, n)), ((1,), (b, m, n))]
    return pairs + [(right, left) for left, right in pairs]


def matmul_pairs(rng):
    """Shape pairs for ``@``: wide and tall, size-1 sides, vectors, batched on either or both
    sides, and batch dimensions that broadcast against each other."""
    b, c, m, k, n = _sizes(rng, 5)
    return [((m, k), (k, n)), ((1, k), (k, n)), ((m, k), (k, 1)), ((k, m), (m, k)),
            ((k,), (k, n)), ((m, k), (k,)), ((b, m, k), (k, n)), ((m, k), (b, k, n)),
            ((b, m, k), (b, k, n)), ((b, 1, m, k), (c, k, n)), ((b, m, k), (k,)),
            ((k,), (b, k, n))]


def reduction_cases(rng):
    """(shape, axis, keepdims) for a 3-D shape: every axis, negative axes and all axes."""
    shape = tuple(_sizes(rng, 3))
    return [(shape, axis, keepdims) for axis in (None, 0, 1, 2, -1, -2)
            for keepdims in (False, True)]


def axis_tuple_cases(rng):
    """(shape, axes, keepdims) for a 3-D shape reduced over a tuple of axes, negative ones too."""
    shape = tuple(_sizes(rng, 3))
    return [(shape, axes, keepdims) for axes in ((0, 2), (1, 2), (-1, 0), (0, 1, 2))
            for keepdims in (False, True)]


def extreme_rows(rng, rows, cols):
    """Logits whose rows sit near very different levels (+-1000) with spreads from 0.1 to 500:
    a row far below the batch's maximum must not underflow, a row near 1000 must not overflow."""
    level = rng.choice([-1000.0, -300.0, 0.0, 300.0, 1000.0], size=(rows, 1))
    spread = rng.choice([0.1, 5.0, 50.0, 500.0], size=(rows, 1))
    return (level + spread * rng.normal(size=(rows, cols))).astype(np.float32)


def results(student, expr, count):
    """The runner's list of ``count`` values for ``expr``: the reply is only a claim, and a
    short list must not let a ``zip`` skip comparisons."""
    got = student.eval(expr)
    if type(got) is not list or len(got) != count:
        raise AssertionError(f"`{expr[:80]}` should give a list of {count} values, got "
                             f"{describe(got)}")
    return got


class Cases:
    """Tensors sent to the runner as named literals and expressions checked in one round trip::

        cases = Cases("from tinytorch.core.tensor import Tensor")
        a = cases.tensor(np.ones((2, 3), np.float32))      # runner name of the new Tensor
        cases.expect(f"{a}.sum(axis=0)", np.full(3, 2.0), "sum(axis=0) of a (2, 3) tensor")
        cases.check(student)                              # one exec, one eval, compared here
    """

    def __init__(self, imports):
        self.code, self.items = [imports], []

    def tensor(self, array, grad=False):
        """Runner name of a Tensor holding ``array`` exactly, in its dtype (a leaf if ``grad``)."""
        name = f"t{len(self.code)}"
        array = np.asarray(array)
        self.code.append(f"{name} = Tensor({literal(array)}, dtype=np.{array.dtype.name}"
                         f"{', requires_grad=True' if grad else ''})")
        return name

    def run(self, statement):
        """Runner code to execute, in order, before the expressions are evaluated."""
        self.code.append(statement)

    def expect(self, expr, expected, what, **options):
        """``expr`` must evaluate to ``expected`` (``options``: dtype, rtol, atol)."""
        self.items.append((expr, expected, what, options))

    def check(self, student, **defaults):
        """Run the setup, evaluate every expression at once and compare each result here."""
        student.exec("\n".join(self.code))
        got = results(student, "[" + ", ".join(expr for expr, *_ in self.items) + "]",
                      len(self.items))
        for value, (expr, expected, what, options) in zip(got, self.items):
            assert_array(value, expected, what=f"{what}: `{expr}`", **{**defaults, **options})
