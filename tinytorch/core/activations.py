"""Module 03 - Activations: the non-linear functions between layers.

Without them a stack of Linear layers collapses into one matrix. Each activation here is a
small callable object; its gradient rule lives in module 07 (autograd).

Systems cost:
    memory  - the output is a new array the size of the input; while training, autograd keeps
              the input (ReLU, GELU) or the output (Sigmoid, Tanh, Softmax) for backward.
    compute - O(n) and memory-bound, except that exp/tanh cost ~10-20x an add per element:
              GELU and Softmax are the expensive ones.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.tensor import Tensor


class Activation:
    """Callable with no parameters; subclasses implement ``forward``."""

    def __call__(self, x: Tensor) -> Tensor:
        return self.forward(x)

    def forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def parameters(self) -> list:
        return []

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ReLU(Activation):
    """max(0, x): cheap, and its gradient does not vanish for positive inputs."""

    def forward(self, x: Tensor) -> Tensor:
        ### BEGIN SOLUTION
        return Tensor._from_op(np.maximum(x.data, 0), (x,), "relu")
        ### END SOLUTION


class Sigmoid(Activation):
    """1 / (1 + e^-x), computed without overflow for large negative x."""

    def forward(self, x: Tensor) -> Tensor:
        ### BEGIN SOLUTION
        z = np.exp(-np.abs(x.data))  # never overflows
        out = np.where(x.data >= 0, 1 / (1 + z), z / (1 + z))
        return Tensor._from_op(out.astype(x.dtype), (x,), "sigmoid")
        ### END SOLUTION


class Tanh(Activation):
    def forward(self, x: Tensor) -> Tensor:
        ### BEGIN SOLUTION
        return Tensor._from_op(np.tanh(x.data), (x,), "tanh")
        ### END SOLUTION


class GELU(Activation):
    """The smooth ReLU of transformers (tanh approximation, as in GPT-2)."""

    def forward(self, x: Tensor) -> Tensor:
        ### BEGIN SOLUTION
        v = x.data
        c = np.sqrt(2 / np.pi).astype(v.dtype)
        out = 0.5 * v * (1 + np.tanh(c * (v + 0.044715 * (v * v * v))))  # v**3 on float32 is ~80x slower
        return Tensor._from_op(out, (x,), "gelu")
        ### END SOLUTION


def _stable_shift(v: np.ndarray, dim: int) -> np.ndarray:
    """Row maxima to subtract before exp; a row that is all -inf (fully masked) shifts by 0."""
    m = np.max(v, axis=dim, keepdims=True)
    return np.where(np.isfinite(m), m, 0)


class Softmax(Activation):
    """exp(x) / sum(exp(x)) along ``dim``; a fully masked (-inf) row gives zeros, not NaN.

    Softmax and LogSoftmax record ``dim`` in ``ctx.saved``: their gradient rules sum along it.
    """

    def __init__(self, dim: int = -1):
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        ### BEGIN SOLUTION
        e = np.exp(x.data - _stable_shift(x.data, self.dim))
        total = e.sum(axis=self.dim, keepdims=True)
        out = e / np.where(total == 0, 1, total)
        return Tensor._from_op(out, (x,), "softmax", dim=self.dim)
        ### END SOLUTION

    def __repr__(self) -> str:
        return f"Softmax(dim={self.dim})"


class LogSoftmax(Softmax):
    """log(softmax(x)) without ever taking the log of a rounded-to-zero probability."""

    def forward(self, x: Tensor) -> Tensor:
        ### BEGIN SOLUTION
        shifted = x.data - _stable_shift(x.data, self.dim)
        out = shifted - np.log(np.exp(shifted).sum(axis=self.dim, keepdims=True))
        return Tensor._from_op(out, (x,), "log_softmax", dim=self.dim)
        ### END SOLUTION

    def __repr__(self) -> str:
        return f"LogSoftmax(dim={self.dim})"
