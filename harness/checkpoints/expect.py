"""Trusted-side comparisons with messages a student can act on.

Values arrive decoded from the wire (plain data and ndarrays), so these compare with NumPy on
this side; nothing the student's code does can change how they judge.
"""

import numpy as np

from harness.checkpoints.plugin import describe


def assert_array(actual, expected, *, what="the result", dtype=None, rtol=1e-5, atol=1e-6):
    """``actual`` must be an ndarray with the expected shape, dtype (if given) and values."""
    expected = np.asarray(expected)
    if type(actual) is not np.ndarray:
        raise AssertionError(f"{what} should be a Tensor, got {describe(actual)}")
    if actual.shape != expected.shape:
        raise AssertionError(f"{what} has shape {actual.shape}, expected {expected.shape}")
    if dtype is not None and actual.dtype != np.dtype(dtype):
        raise AssertionError(f"{what} has dtype {actual.dtype}, expected {np.dtype(dtype)}")
    if actual.dtype.kind not in "biuf" or not np.allclose(actual, expected, rtol=rtol,
                                                          atol=atol, equal_nan=True):
        raise AssertionError(f"{what} has wrong values: got\n{_show(actual)}\nexpected\n"
                             f"{_show(expected)}")


def assert_equal(actual, expected, *, what="the result"):
    """Exact equality of plain values (numbers, strings, shapes as lists)."""
    if type(actual) is not type(expected) or actual != expected:
        raise AssertionError(f"{what} is {describe(actual)}, expected {describe(expected)}")


def assert_results(student, cases, **options):
    """Evaluate each ``(expression, expected)`` in the runner and compare it here."""
    for expr, expected in cases:
        assert_array(student.array(expr), expected, what=expr, **options)


def _show(array):
    return np.array2string(np.asarray(array), precision=5, threshold=30)
