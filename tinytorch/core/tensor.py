"""Module 02 - Tensor: an n-dimensional array that can remember how it was made.

A ``Tensor`` wraps a float32 NumPy array. Every operation computes its result with NumPy
and returns it through ``Tensor._from_op``, which (once module 07 is written) records the
operation and its inputs so gradients can flow back later. Until then, tensors are simply
a friendly wrapper over NumPy.

Systems cost:
    memory  - one float32 array per tensor: 4 bytes per element. A (1024, 1024) tensor is 4 MiB.
              While gradients are recorded, every intermediate result of a forward pass stays
              alive until ``backward`` has used it: activation memory grows with depth.
    compute - element-wise ops are O(n) and memory-bound; ``a @ b`` with shapes (m, k) and
              (k, n) is 2*m*k*n FLOPs and runs on BLAS, the only op here that is compute-bound.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core import autograd

_FLOAT = np.float32


def _as_tensor(value) -> "Tensor":
    """Let scalars, lists and arrays take part in tensor arithmetic."""
    return value if isinstance(value, Tensor) else Tensor(value)


class Tensor:
    """An array of float32 numbers with optional gradient tracking.

    >>> (Tensor([[1, 2], [3, 4]]) * 2).data
    array([[2., 4.],
           [6., 8.]], dtype=float32)
    """

    __array_priority__ = 1000  # so ``ndarray * Tensor`` defers to Tensor.__rmul__

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        """Copy-free when ``data`` is already a float32 array; ``dtype`` keeps index tensors integral."""
        ### BEGIN SOLUTION
        if isinstance(data, Tensor):
            data = data.data
        self.data = np.asarray(data, dtype=_FLOAT if dtype is None else dtype)
        ### END SOLUTION
        self.requires_grad = bool(requires_grad)
        self.grad: np.ndarray | None = None
        self._ctx: autograd.Context | None = None

    # ----------------------------------------------------------------- properties
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def size(self) -> int:
        return int(self.data.size)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def T(self) -> "Tensor":
        return self.transpose()

    def numpy(self) -> np.ndarray:
        return self.data

    def item(self) -> float:
        return self.data.item()

    def detach(self) -> "Tensor":
        """The same numbers, cut off from the graph (no copy)."""
        return Tensor(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({np.array2string(self.data, precision=4, threshold=20)}{grad})"

    # ------------------------------------------------------------------- autograd
    @classmethod
    def _from_op(cls, data: np.ndarray, parents: tuple, op: str, **saved) -> "Tensor":
        """Wrap an op's result; record the op when a parent needs gradients (module 07)."""
        out = cls(data, dtype=data.dtype)
        if autograd.is_grad_enabled() and any(p.requires_grad for p in parents):
            out.requires_grad = True
            out._ctx = autograd.Context(op, parents, out.data, saved)
        return out

    def backward(self, grad=None) -> None:
        """Fill ``.grad`` of every leaf tensor this one depends on (see module 07)."""
        autograd.backward(self, grad)

    # ---------------------------------------------------------------- arithmetic
    def __add__(self, other) -> "Tensor":
        """Element-wise sum, broadcasting like NumPy."""
        other = _as_tensor(other)
        ### BEGIN SOLUTION
        return self._from_op(self.data + other.data, (self, other), "add")
        ### END SOLUTION

    def __sub__(self, other) -> "Tensor":
        other = _as_tensor(other)
        ### BEGIN SOLUTION
        return self._from_op(self.data - other.data, (self, other), "sub")
        ### END SOLUTION

    def __mul__(self, other) -> "Tensor":
        other = _as_tensor(other)
        ### BEGIN SOLUTION
        return self._from_op(self.data * other.data, (self, other), "mul")
        ### END SOLUTION

    def __truediv__(self, other) -> "Tensor":
        other = _as_tensor(other)
        ### BEGIN SOLUTION
        return self._from_op(self.data / other.data, (self, other), "div")
        ### END SOLUTION

    def __radd__(self, other) -> "Tensor":
        return _as_tensor(other) + self

    def __rsub__(self, other) -> "Tensor":
        return _as_tensor(other) - self

    def __rmul__(self, other) -> "Tensor":
        return _as_tensor(other) * self

    def __rtruediv__(self, other) -> "Tensor":
        return _as_tensor(other) / self

    def __neg__(self) -> "Tensor":
        ### BEGIN SOLUTION
        return self._from_op(-self.data, (self,), "neg")
        ### END SOLUTION

    def __pow__(self, exponent) -> "Tensor":
        """Raise every element to a constant power (a Python number)."""
        if not isinstance(exponent, (int, float)):
            raise TypeError(f"Tensor ** only supports a number as exponent, got {type(exponent).__name__}")
        ### BEGIN SOLUTION
        return self._from_op(self.data**exponent, (self,), "pow", exponent=exponent)
        ### END SOLUTION

    def __matmul__(self, other) -> "Tensor":
        return self.matmul(other)

    def __rmatmul__(self, other) -> "Tensor":
        return _as_tensor(other).matmul(self)

    def matmul(self, other) -> "Tensor":
        """Matrix product; leading (batch) dimensions broadcast as in ``np.matmul``."""
        other = _as_tensor(other)
        if self.ndim == 0 or other.ndim == 0:
            raise ValueError("matmul needs tensors with at least one dimension; use * for scalars")
        inner_a = self.shape[-1]
        inner_b = other.shape[-2] if other.ndim > 1 else other.shape[0]
        if inner_a != inner_b:
            raise ValueError(
                f"matmul shape mismatch: {self.shape} @ {other.shape} "
                f"(inner dimensions {inner_a} and {inner_b} must be equal)"
            )
        ### BEGIN SOLUTION
        return self._from_op(np.matmul(self.data, other.data), (self, other), "matmul")
        ### END SOLUTION

    # ------------------------------------------------------------ element-wise math
    def exp(self) -> "Tensor":
        ### BEGIN SOLUTION
        return self._from_op(np.exp(self.data), (self,), "exp")
        ### END SOLUTION

    def log(self) -> "Tensor":
        ### BEGIN SOLUTION
        return self._from_op(np.log(self.data), (self,), "log")
        ### END SOLUTION

    def sqrt(self) -> "Tensor":
        ### BEGIN SOLUTION
        return self._from_op(np.sqrt(self.data), (self,), "sqrt")
        ### END SOLUTION

    # ---------------------------------------------------------------- reductions
    def sum(self, axis=None, keepdims: bool = False) -> "Tensor":
        """Sum over ``axis`` (None: every axis); records ``axis`` and ``keepdims`` in ``ctx.saved``."""
        ### BEGIN SOLUTION
        data = np.sum(self.data, axis=axis, keepdims=keepdims)
        return self._from_op(np.asarray(data), (self,), "sum", axis=axis, keepdims=keepdims)
        ### END SOLUTION

    def mean(self, axis=None, keepdims: bool = False) -> "Tensor":
        """Mean over ``axis`` (None: every axis); records ``axis`` and ``keepdims`` in ``ctx.saved``."""
        ### BEGIN SOLUTION
        data = np.mean(self.data, axis=axis, keepdims=keepdims)
        return self._from_op(np.asarray(data), (self,), "mean", axis=axis, keepdims=keepdims)
        ### END SOLUTION

    def max(self, axis=None, keepdims: bool = False) -> "Tensor":
        """Largest value over ``axis`` (None: every axis); records ``axis`` and ``keepdims`` in ``ctx.saved``."""
        ### BEGIN SOLUTION
        data = np.max(self.data, axis=axis, keepdims=keepdims)
        return self._from_op(np.asarray(data), (self,), "max", axis=axis, keepdims=keepdims)
        ### END SOLUTION

    # -------------------------------------------------------------------- shape
    def reshape(self, *shape) -> "Tensor":
        """New view of the same numbers; one dimension may be -1 (inferred)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if shape.count(-1) > 1:
            raise ValueError(f"reshape can infer at most one dimension, got {shape}")
        ### BEGIN SOLUTION
        try:
            data = self.data.reshape(shape)
        except ValueError:
            raise ValueError(f"cannot reshape a tensor of shape {self.shape} ({self.size} elements) into {shape}") from None
        return self._from_op(data, (self,), "reshape")
        ### END SOLUTION

    def transpose(self, dim0: int = -2, dim1: int = -1) -> "Tensor":
        """Swap two dimensions (by default the last two, i.e. the matrix transpose); records
        ``dim0`` and ``dim1`` in ``ctx.saved`` for the gradient rule."""
        if self.ndim < 2:
            return self
        ### BEGIN SOLUTION
        return self._from_op(np.swapaxes(self.data, dim0, dim1), (self,), "transpose", dim0=dim0, dim1=dim1)
        ### END SOLUTION

    def __getitem__(self, index) -> "Tensor":
        """Index like NumPy: ints, slices, ``None``, and integer arrays or tensors."""
        if isinstance(index, Tensor):
            index = index.data.astype(np.int64)
        elif isinstance(index, tuple):
            index = tuple(i.data.astype(np.int64) if isinstance(i, Tensor) else i for i in index)
        ### BEGIN SOLUTION
        return self._from_op(np.asarray(self.data[index]), (self,), "getitem", index=index)
        ### END SOLUTION
