"""Module 09 - Spatial: convolution, pooling and batch normalisation for images.

Tensors here are NCHW, as in PyTorch: (batch, channels, height, width). Internally the
layers keep the numbers channels-last in memory (NHWC) and hand back a transposed view, so
the next layer's im2col copies contiguous runs of channels and BatchNorm reduces over rows of
a plain (pixels, channels) matrix; NumPy's element-wise ops (ReLU, +) preserve that layout.

Convolution is im2col + one matrix multiply: every k x k patch of the padded input is copied
into one row of a matrix, so the whole layer becomes a single BLAS call instead of a Python
loop over pixels. Backward is two more matmuls plus col2im, a scatter-add back into the
image done with a loop over the k*k kernel offsets only.

Systems cost:
    memory  - Conv2d's im2col buffer has N*Ho*Wo rows and kh*kw*C_in columns: kh*kw (9 for
              3x3) times the input's size. Batch 128 of 32x32x32 float32 maps with a 3x3
              kernel needs 128*1024*288*4 bytes = 151 MB, kept alive until backward because
              the weight gradient needs it. BatchNorm and pooling keep only
              their input, which the graph holds anyway.
    compute - Conv2d forward is 2*N*Ho*Wo*(kh*kw*C_in)*C_out FLOPs on BLAS; backward costs
              twice that (weight and input gradients), once if the input needs no gradient
              (the first layer). Pooling and BatchNorm are O(N*C*H*W) and memory-bound: in
              a narrow network they, not the matmuls, set the pace.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.autograd import gradient
from tinytorch.core.layers import Module, kaiming_uniform
from tinytorch.core.tensor import Tensor

__all__ = [
    "Conv2d",
    "MaxPool2d",
    "AvgPool2d",
    "BatchNorm2d",
    "BatchNorm1d",
    "conv2d",
    "batch_norm",
    "im2col",
    "col2im",
    "conv_output_size",
]


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def conv_output_size(size: int, kernel: int, stride: int, padding: int = 0) -> int:
    """Positions a kernel takes along one axis: floor((size + 2p - k) / s) + 1."""
    out = (size + 2 * padding - kernel) // stride + 1
    if out < 1:
        raise ValueError(f"kernel {kernel} (padding {padding}) does not fit an input of size {size}")
    return out


# --------------------------------------------------------------------- im2col
def im2col(xp: np.ndarray, kh: int, kw: int, stride: int) -> np.ndarray:
    """Patches of a padded NHWC batch as rows: (N*Ho*Wo, kh*kw*C), columns ordered (i, j, c).

    ``sliding_window_view`` makes the patches without copying; the one copy is the reshape
    into a matrix, with contiguous runs of C channels.
    """
    n, hp, wp, c = xp.shape
    ho, wo = (hp - kh) // stride + 1, (wp - kw) // stride + 1
    ### BEGIN SOLUTION
    windows = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    return windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * ho * wo, kh * kw * c)
    ### END SOLUTION


def col2im(patches: np.ndarray, padded_shape: tuple, kh: int, kw: int, stride: int) -> np.ndarray:
    """The adjoint of ``im2col``: add every patch back where it came from (overlaps sum).

    ``patches`` is offset-major, (kh*kw, N*Ho*Wo, C): block i*kw + j holds what kernel
    offset (i, j) contributed, so each of the kh*kw additions reads one contiguous block.
    """
    n, hp, wp, c = padded_shape
    ho, wo = (hp - kh) // stride + 1, (wp - kw) // stride + 1
    ### BEGIN SOLUTION
    out = np.zeros(padded_shape, dtype=patches.dtype)
    for i in range(kh):
        for j in range(kw):
            block = patches[i * kw + j].reshape(n, ho, wo, c)
            out[:, i:i + stride * (ho - 1) + 1:stride, j:j + stride * (wo - 1) + 1:stride] += block
    return out
    ### END SOLUTION


def _pad_nhwc(x: np.ndarray, padding: int) -> np.ndarray:
    """NCHW array -> zero-padded NHWC copy (one pass; the transpose is free when x is NHWC in memory)."""
    n, c, h, w = x.shape
    xp = np.zeros((n, h + 2 * padding, w + 2 * padding, c), dtype=x.dtype)
    xp[:, padding:padding + h, padding:padding + w] = x.transpose(0, 2, 3, 1)
    return xp


def _rows(a: np.ndarray) -> np.ndarray:
    """(N, C, ...) -> (N*..., C): channels last as a 2-D matrix (free for channels-last memory)."""
    return np.moveaxis(a, 1, -1).reshape(-1, a.shape[1])


def _unrows(rows: np.ndarray, shape: tuple) -> np.ndarray:
    """Inverse of ``_rows``: a channels-last matrix back to an (N, C, ...) view."""
    channels_last = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    return np.moveaxis(rows.reshape(channels_last), -1, 1)


# ---------------------------------------------------------------------- conv2d
def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int = 1, padding: int = 0) -> Tensor:
    """Cross-correlate an NCHW batch with weight (C_out, C_in, kh, kw), as ``torch.nn.functional.conv2d``."""
    if x.ndim != 4:
        raise ValueError(f"conv2d expects an NCHW input with 4 dimensions, got shape {x.shape}")
    c_out, c_in, kh, kw = weight.shape
    if x.shape[1] != c_in:
        raise ValueError(f"conv2d: input has {x.shape[1]} channels, weight expects {c_in} (input shape {x.shape})")
    n, _, h, w = x.shape
    ho, wo = conv_output_size(h, kh, stride, padding), conv_output_size(w, kw, stride, padding)
    parents = (x, weight) if bias is None else (x, weight, bias)
    ### BEGIN SOLUTION
    xp = _pad_nhwc(x.data, padding)
    cols = im2col(xp, kh, kw, stride)
    w_mat = weight.data.transpose(2, 3, 1, 0).reshape(kh * kw * c_in, c_out)
    out = cols @ w_mat
    if bias is not None:
        out += bias.data
    data = out.reshape(n, ho, wo, c_out).transpose(0, 3, 1, 2)
    return Tensor._from_op(data, parents, "conv2d", cols=cols, padded_shape=xp.shape,
                           stride=stride, padding=padding)
    ### END SOLUTION


@gradient("conv2d")
def _conv2d_backward(grad, ctx):
    """dW = cols^T @ g, db = sum g, dx = col2im(g @ W^T) (skipped when x needs no gradient)."""
    x, weight = ctx.parents[:2]
    c_out, c_in, kh, kw = weight.shape
    s, p = ctx.saved["stride"], ctx.saved["padding"]
    ### BEGIN SOLUTION
    g = _rows(grad)
    d_weight = (ctx.saved["cols"].T @ g).reshape(kh, kw, c_in, c_out).transpose(3, 2, 0, 1)
    d_x = None
    if x.requires_grad:  # one (M, C_out) @ (C_out, C_in) product per kernel offset, in one batched call
        w_blocks = weight.data.transpose(2, 3, 0, 1).reshape(kh * kw, c_out, c_in)
        dxp = col2im(np.matmul(g, w_blocks), ctx.saved["padded_shape"], kh, kw, s)
        h, w = x.shape[2:]
        d_x = dxp[:, p:p + h, p:p + w].transpose(0, 3, 1, 2)
    if len(ctx.parents) == 2:
        return d_x, d_weight
    return d_x, d_weight, g.sum(axis=0)
    ### END SOLUTION


class Conv2d(Module):
    """2-D convolution layer over NCHW batches, weight (out, in, kh, kw) He-uniform, bias zero."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride: int = 1, padding: int = 0,
                 bias: bool = True, rng: np.random.Generator | None = None):
        if in_channels < 1 or out_channels < 1 or stride < 1 or padding < 0:
            raise ValueError(f"Conv2d needs positive channels and stride and padding >= 0, got "
                             f"({in_channels}, {out_channels}, stride={stride}, padding={padding})")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = _pair(kernel_size), stride, padding
        kh, kw = self.kernel_size
        self.weight = Tensor(kaiming_uniform((out_channels, in_channels, kh, kw), in_channels * kh * kw, rng),
                             requires_grad=True)
        self.bias = Tensor(np.zeros(out_channels, dtype=np.float32), requires_grad=True) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def flops(self, height: int, width: int) -> int:
        """Forward multiply-adds * 2 for one image of the given size."""
        kh, kw = self.kernel_size
        ho = conv_output_size(height, kh, self.stride, self.padding)
        wo = conv_output_size(width, kw, self.stride, self.padding)
        return 2 * ho * wo * kh * kw * self.in_channels * self.out_channels

    def __repr__(self) -> str:
        return (f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={self.bias is not None})")


# --------------------------------------------------------------------- pooling
def _window_views(a: np.ndarray, k: int, s: int, out_hw: tuple):
    """Yield (i, j, view) for each kernel offset: the strided slice of ``a`` that offset reads."""
    ho, wo = out_hw
    for i in range(k):
        for j in range(k):
            yield i, j, a[:, :, i:i + s * (ho - 1) + 1:s, j:j + s * (wo - 1) + 1:s]


def _fold_windows(a: np.ndarray, k: int, s: int, out_hw: tuple, ufunc) -> np.ndarray:
    """Combine the k*k offset views element-wise with ``ufunc`` (np.maximum, np.add), in a's memory layout."""
    ### BEGIN SOLUTION
    out = None
    for _, _, view in _window_views(a, k, s, out_hw):
        out = view.copy(order="K") if out is None else ufunc(out, view, out=out)
    return out
    ### END SOLUTION


class _Pool2d(Module):
    """Shared shape checks of the pooling layers: square window, stride defaults to the window."""

    def __init__(self, kernel_size: int, stride: int | None = None):
        if kernel_size < 1 or (stride is not None and stride < 1):
            raise ValueError(f"{type(self).__name__} needs a positive kernel size and stride")
        self.kernel_size, self.stride = kernel_size, stride or kernel_size

    def _out_hw(self, x: Tensor) -> tuple[int, int]:
        if x.ndim != 4:
            raise ValueError(f"{type(self).__name__} expects an NCHW input, got shape {x.shape}")
        return tuple(conv_output_size(size, self.kernel_size, self.stride) for size in x.shape[2:])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, stride={self.stride})"


class MaxPool2d(_Pool2d):
    """Largest value of each window; the gradient goes to the first maximum of each window."""

    def forward(self, x: Tensor) -> Tensor:
        k, s = self.kernel_size, self.stride
        out_hw = self._out_hw(x)
        ### BEGIN SOLUTION
        out = _fold_windows(x.data, k, s, out_hw, np.maximum)
        return Tensor._from_op(out, (x,), "max_pool2d", kernel=k, stride=s)
        ### END SOLUTION


@gradient("max_pool2d")
def _max_pool2d_backward(grad, ctx):
    """One pass per kernel offset: route each window's gradient to its first maximal element."""
    (x,) = ctx.parents
    k, s = ctx.saved["kernel"], ctx.saved["stride"]
    ### BEGIN SOLUTION
    d_x = np.zeros_like(x.data)
    taken = np.zeros(ctx.out.shape, dtype=bool)
    out_hw = ctx.out.shape[2:]
    for (_, _, view), (_, _, d_view) in zip(_window_views(x.data, k, s, out_hw), _window_views(d_x, k, s, out_hw)):
        hit = view == ctx.out
        hit &= ~taken
        taken |= hit
        if k <= s:  # windows do not overlap: each input element is written once
            np.multiply(grad, hit, out=d_view)
        else:
            d_view += grad * hit
    return (d_x,)
    ### END SOLUTION


class AvgPool2d(_Pool2d):
    """Mean of each window."""

    def forward(self, x: Tensor) -> Tensor:
        k, s = self.kernel_size, self.stride
        out_hw = self._out_hw(x)
        ### BEGIN SOLUTION
        out = _fold_windows(x.data, k, s, out_hw, np.add)
        out *= 1.0 / (k * k)
        return Tensor._from_op(out, (x,), "avg_pool2d", kernel=k, stride=s)
        ### END SOLUTION


@gradient("avg_pool2d")
def _avg_pool2d_backward(grad, ctx):
    (x,) = ctx.parents
    k, s = ctx.saved["kernel"], ctx.saved["stride"]
    ### BEGIN SOLUTION
    d_x = np.zeros_like(x.data)
    share = grad * (1.0 / (k * k))
    for _, _, view in _window_views(d_x, k, s, grad.shape[2:]):
        view += share
    return (d_x,)
    ### END SOLUTION


# ------------------------------------------------------------------ batch norm
def batch_norm(x: Tensor, weight: Tensor, bias: Tensor, running_mean: np.ndarray, running_var: np.ndarray,
               training: bool, momentum: float, eps: float) -> Tensor:
    """Normalise each channel (axis 1) to zero mean, unit variance, then scale and shift.

    Training uses the batch's statistics and moves the running ones (in place) towards them;
    evaluation uses the running statistics, so one image's output does not depend on its batch.
    Only the per-channel mean and 1/sigma are saved: backward rebuilds x_hat from the input,
    which the graph keeps anyway, instead of holding a second input-sized array.
    """
    ### BEGIN SOLUTION
    rows = _rows(x.data)
    if training:
        count = rows.shape[0]
        mean = rows.mean(axis=0)
        out = rows - mean
        var = np.einsum("ij,ij->j", out, out) / count
        running_mean *= 1 - momentum
        running_mean += momentum * mean
        running_var *= 1 - momentum
        running_var += momentum * var * (count / max(count - 1, 1))  # unbiased, as PyTorch
    else:
        mean, var = running_mean.astype(rows.dtype), running_var.astype(rows.dtype)
        out = rows - mean
    inv_std = (1.0 / np.sqrt(var + eps)).astype(rows.dtype)
    out *= weight.data * inv_std
    out += bias.data
    return Tensor._from_op(_unrows(out, x.shape), (x, weight, bias), "batch_norm",
                           mean=mean, inv_std=inv_std, training=training)
    ### END SOLUTION


@gradient("batch_norm")
def _batch_norm_backward(grad, ctx):
    """With batch statistics dx = gamma/sigma * (g - mean(g) - x_hat * mean(g * x_hat)).

    Written per channel as dx = a*g + b*x + c, so it costs a few passes over the input and
    no input-sized temporaries beyond the result.
    """
    x, weight, _ = ctx.parents
    mean, inv_std = ctx.saved["mean"], ctx.saved["inv_std"]
    ### BEGIN SOLUTION
    g, rows = _rows(grad), _rows(x.data)
    d_bias = g.sum(axis=0)
    d_weight = inv_std * (np.einsum("ij,ij->j", g, rows) - mean * d_bias)
    a = weight.data * inv_std
    d_rows = g * a
    if ctx.saved["training"]:
        count = g.shape[0]
        b = -a * inv_std * d_weight / count
        d_rows += rows * b
        d_rows += -a * d_bias / count - b * mean
    return _unrows(d_rows, x.shape), d_weight, d_bias
    ### END SOLUTION


class BatchNorm2d(Module):
    """Per-channel batch normalisation of NCHW maps (statistics over batch, height, width)."""

    _input_ndim = (4,)

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5):
        if num_features < 1 or not 0.0 <= momentum <= 1.0 or eps <= 0:
            raise ValueError(f"{type(self).__name__} needs num_features >= 1, momentum in [0, 1], eps > 0")
        self.num_features, self.momentum, self.eps = num_features, momentum, eps
        self.weight = Tensor(np.ones(num_features, dtype=np.float32), requires_grad=True)
        self.bias = Tensor(np.zeros(num_features, dtype=np.float32), requires_grad=True)
        self.register_buffer("running_mean", np.zeros(num_features, dtype=np.float32))
        self.register_buffer("running_var", np.ones(num_features, dtype=np.float32))

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in self._input_ndim or x.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}({self.num_features}) got input of shape {x.shape}")
        return batch_norm(x, self.weight, self.bias, self.running_mean, self.running_var,
                          self.training, self.momentum, self.eps)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.num_features}, momentum={self.momentum}, eps={self.eps})"


class BatchNorm1d(BatchNorm2d):
    """Batch normalisation of (batch, features) inputs, e.g. between Linear layers."""

    _input_ndim = (2,)
