"""Central finite differences in float64: the yardstick for every gradient rule."""

from __future__ import annotations

import numpy as np

from tinytorch import Tensor


def numerical_grad(f, x: Tensor, eps: float = 1e-6) -> np.ndarray:
    """d(sum f())/dx by central differences, perturbing ``x.data`` in place."""
    grad = np.zeros_like(x.data)
    for i in np.ndindex(x.shape):
        old = x.data[i]
        x.data[i] = old + eps
        plus = float(f().data.sum())
        x.data[i] = old - eps
        minus = float(f().data.sum())
        x.data[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def assert_gradients_match(f, *inputs: Tensor, atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """Compare autograd's gradients of ``sum(f(*inputs))`` with finite differences.

    Inputs must be float64 tensors with ``requires_grad=True``.
    """
    for x in inputs:
        assert x.dtype == np.float64, "gradient checks need float64 inputs"
        x.grad = None
    f(*inputs).sum().backward()
    for k, x in enumerate(inputs):
        expected = numerical_grad(lambda: f(*inputs), x)
        assert x.grad is not None, f"input {k} got no gradient"
        np.testing.assert_allclose(x.grad, expected, atol=atol, rtol=rtol, err_msg=f"gradient of input {k}")


def random_tensor(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> Tensor:
    """A float64 leaf tensor that records gradients, for gradient checks."""
    return Tensor(rng.normal(scale=scale, size=shape), requires_grad=True, dtype=np.float64)
