"""Module 16 - Kernels: the same operation written three ways, and why the third is fastest.

Each operation comes as (1) Python loops, the definition written out; (2) vectorised NumPy,
which hands the loops to compiled code; (3) a version shaped for the memory system:
cache-blocked tiles for matmul, im2col or a stride-tricks window view for convolution, and a
single-buffer softmax. All three give the same numbers (the tests check each against the
others); only their cost differs, which ``time_kernel`` and ``bench/kernels.py`` measure.

Systems cost (float32, 4 bytes per element):
    matmul (m, k) @ (k, n) - 2*m*k*n FLOPs whichever way. Loops run ~1e7 interpreter steps per
              second, BLAS ~1e10 FLOPs per second: the gap is three orders of magnitude. Blocked
              tiles of t x t keep 3*t*t*4 bytes hot in cache (t=64: 48 KiB, about L2).
    conv2d    - 2*N*F*C*KH*KW*OH*OW FLOPs. im2col copies the input into an
              (N*OH*OW, C*KH*KW) matrix: KH*KW times the input's memory (3x3: 9x) to turn the
              convolution into one BLAS matmul. The window view costs no copy until the
              contraction, which may still copy internally.
    softmax   - ~5 passes over n elements; memory-bound. The unfused form allocates four
              temporaries of size n, the fused form one output buffer; the loop form makes one
              pass per row with a running maximum (the "online softmax" of FlashAttention).
"""

from __future__ import annotations

import math
import statistics
import time

import numpy as np

from tinytorch.core.spatial import conv_output_size
from tinytorch.core.tensor import Tensor

__all__ = [
    "matmul_loops",
    "matmul_numpy",
    "matmul_blocked",
    "conv2d_loops",
    "conv2d_im2col",
    "conv2d_strided",
    "softmax_loops",
    "softmax_unfused",
    "softmax_fused",
    "time_kernel",
]


def _float_array(x) -> np.ndarray:
    """Keep float inputs' dtype (float64 for exact checks); turn anything else into float32."""
    x = np.asarray(x.data if isinstance(x, Tensor) else x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float32)


# ------------------------------------------------------------------------ matmul
def _matmul_operands(a, b) -> tuple[np.ndarray, np.ndarray]:
    a, b = _float_array(a), _float_array(b)
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"matmul kernels take 2-D matrices, got shapes {a.shape} and {b.shape}")
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul shape mismatch: {a.shape} @ {b.shape} (inner dimensions must be equal)")
    return a, b


def matmul_loops(a, b) -> np.ndarray:
    """The definition, out[i, j] = sum_k a[i, k] * b[k, j], one multiply-add per Python step."""
    a, b = _matmul_operands(a, b)
    ### BEGIN SOLUTION
    m, k = a.shape
    n = b.shape[1]
    out = np.zeros((m, n), dtype=np.result_type(a, b))
    for i in range(m):
        for j in range(n):
            total = 0.0
            for p in range(k):
                total += a[i, p] * b[p, j]
            out[i, j] = total
    return out
    ### END SOLUTION


def matmul_numpy(a, b) -> np.ndarray:
    """One call into BLAS, which blocks, vectorises and threads for us."""
    a, b = _matmul_operands(a, b)
    ### BEGIN SOLUTION
    return a @ b
    ### END SOLUTION


def matmul_blocked(a, b, tile: int = 64) -> np.ndarray:
    """Multiply tile by tile so each pair of tiles is reused while it sits in cache."""
    a, b = _matmul_operands(a, b)
    if tile < 1:
        raise ValueError(f"tile must be a positive number of rows/columns, got {tile}")
    ### BEGIN SOLUTION
    m, k = a.shape
    n = b.shape[1]
    out = np.zeros((m, n), dtype=np.result_type(a, b))
    for i0 in range(0, m, tile):
        for p0 in range(0, k, tile):
            a_tile = a[i0 : i0 + tile, p0 : p0 + tile]
            for j0 in range(0, n, tile):
                out[i0 : i0 + tile, j0 : j0 + tile] += a_tile @ b[p0 : p0 + tile, j0 : j0 + tile]
    return out
    ### END SOLUTION


# ------------------------------------------------------------------------ conv2d
def _conv_operands(x, weight, bias, stride: int, padding: int):
    """Check shapes once for all three convolutions and return the zero-padded input."""
    x, weight = _float_array(x), _float_array(weight)
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(
            f"conv2d needs x of shape (N, C, H, W) and weight of shape (F, C, KH, KW), got {x.shape} and {weight.shape}"
        )
    if x.shape[1] != weight.shape[1]:
        raise ValueError(f"conv2d channel mismatch: x has {x.shape[1]} channels, weight expects {weight.shape[1]}")
    if stride < 1 or padding < 0:
        raise ValueError(f"conv2d needs stride >= 1 and padding >= 0, got stride={stride}, padding={padding}")
    kh, kw = weight.shape[2:]
    oh = conv_output_size(x.shape[2], kh, stride, padding)
    ow = conv_output_size(x.shape[3], kw, stride, padding)
    if bias is not None:
        bias = _float_array(bias)
        if bias.shape != (weight.shape[0],):
            raise ValueError(f"conv2d bias must have shape ({weight.shape[0]},), got {bias.shape}")
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding))) if padding else x
    return padded, weight, bias, oh, ow


def _add_bias(out: np.ndarray, bias) -> np.ndarray:
    return out if bias is None else out + bias[None, :, None, None]


def conv2d_loops(x, weight, bias=None, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Cross-correlation as six nested loops: (N, C, H, W) * (F, C, KH, KW) -> (N, F, OH, OW)."""
    xp, weight, bias, oh, ow = _conv_operands(x, weight, bias, stride, padding)
    ### BEGIN SOLUTION
    n, c = xp.shape[:2]
    f, _, kh, kw = weight.shape
    out = np.zeros((n, f, oh, ow), dtype=np.result_type(xp, weight))
    for b in range(n):
        for o in range(f):
            for i in range(oh):
                for j in range(ow):
                    total = 0.0
                    for ch in range(c):
                        for di in range(kh):
                            for dj in range(kw):
                                total += xp[b, ch, i * stride + di, j * stride + dj] * weight[o, ch, di, dj]
                    out[b, o, i, j] = total
    return _add_bias(out, bias)
    ### END SOLUTION


def conv2d_im2col(x, weight, bias=None, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Copy every receptive field into a row of a matrix, then do one matmul.

    The copy loops over the KH*KW kernel offsets only; each offset moves a whole strided
    slice of the input at once.
    """
    xp, weight, bias, oh, ow = _conv_operands(x, weight, bias, stride, padding)
    ### BEGIN SOLUTION
    n, c = xp.shape[:2]
    f, _, kh, kw = weight.shape
    cols = np.empty((n, c, kh, kw, oh, ow), dtype=xp.dtype)
    for di in range(kh):
        for dj in range(kw):
            cols[:, :, di, dj] = xp[:, :, di : di + stride * oh : stride, dj : dj + stride * ow : stride]
    cols = cols.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, c * kh * kw)
    out = cols @ weight.reshape(f, c * kh * kw).T
    return _add_bias(out.reshape(n, oh, ow, f).transpose(0, 3, 1, 2), bias)
    ### END SOLUTION


def conv2d_strided(x, weight, bias=None, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Read the windows through a stride-tricks view (no copy), then contract with the weights."""
    xp, weight, bias, oh, ow = _conv_operands(x, weight, bias, stride, padding)
    ### BEGIN SOLUTION
    kh, kw = weight.shape[2:]
    windows = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))
    windows = windows[:, :, : stride * oh : stride, : stride * ow : stride]  # (N, C, OH, OW, KH, KW)
    out = np.tensordot(windows, weight, axes=((1, 4, 5), (1, 2, 3)))  # (N, OH, OW, F)
    return _add_bias(out.transpose(0, 3, 1, 2), bias)
    ### END SOLUTION


# ----------------------------------------------------------------------- softmax
def _softmax_input(x) -> np.ndarray:
    x = _float_array(x)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"softmax needs at least one element along the last axis, got shape {x.shape}")
    return x


def softmax_loops(x) -> np.ndarray:
    """Softmax over the last axis, one row at a time with a running max and running sum.

    One pass finds max and normaliser together (rescaling the sum whenever the max grows);
    a second pass writes the outputs. This is the online softmax that lets FlashAttention
    process a row in blocks.
    """
    x = _softmax_input(x)
    ### BEGIN SOLUTION
    rows = x.reshape(-1, x.shape[-1])
    out = np.empty_like(rows)
    for r, row in enumerate(rows):
        running_max, running_sum = -math.inf, 0.0
        for value in row:
            if value > running_max:
                running_sum *= math.exp(running_max - value)
                running_max = value
            running_sum += math.exp(value - running_max)
        for i, value in enumerate(row):
            out[r, i] = math.exp(value - running_max) / running_sum
    return out.reshape(x.shape)
    ### END SOLUTION


def softmax_unfused(x) -> np.ndarray:
    """Softmax as written on the board: each step a NumPy pass with its own temporary."""
    x = _softmax_input(x)
    ### BEGIN SOLUTION
    row_max = x.max(axis=-1, keepdims=True)
    shifted = x - row_max
    exps = np.exp(shifted)
    total = exps.sum(axis=-1, keepdims=True)
    return exps / total
    ### END SOLUTION


def softmax_fused(x, out: np.ndarray | None = None) -> np.ndarray:
    """Softmax in one buffer: every step writes in place, so no temporary the size of ``x``.

    NumPy cannot fuse the passes into one loop the way a GPU kernel would, but it can stop
    allocating: this is what fusion saves in memory traffic, measured in ``bench/kernels.py``.
    """
    x = _softmax_input(x)
    if out is None:
        out = np.empty_like(x)
    elif out.shape != x.shape or out.dtype != x.dtype:
        raise ValueError(f"out must have shape {x.shape} and dtype {x.dtype}, got {out.shape} {out.dtype}")
    ### BEGIN SOLUTION
    np.subtract(x, x.max(axis=-1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=-1, keepdims=True)
    return out
    ### END SOLUTION


# ------------------------------------------------------------------------ timing
def time_kernel(fn, *args, repeats: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn(*args)`` in seconds, after ``warmup`` untimed calls.

    The median, not the mean: one call interrupted by another process should not move it.
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f"time_kernel needs repeats >= 1 and warmup >= 0, got repeats={repeats}, warmup={warmup}")
    ### BEGIN SOLUTION
    for _ in range(warmup):
        fn(*args)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times)
    ### END SOLUTION
