"""A plain student's versions of the CIFAR net's hot ops, to set the milestone budget from.

The reference ``tinytorch.core.spatial`` is tuned (channels-last memory, offset-major col2im,
column sums as BLAS matrix-vector products). A student who follows the module text writes
something like this instead: NCHW throughout, im2col and col2im as a loop over the kernel
offsets with the usual transposes, BatchNorm from the textbook formula with ``x_hat`` saved,
max-pooling by reshaping into windows. Vectorised, correct, untuned. The graded milestone's
time budget is set from this variant's time to 75%, not from the reference's, so that
a straightforward solution passes.

``with plain_student_ops():`` swaps them into tinytorch (Conv2d, BatchNorm2d, MaxPool2d)
and restores the reference on exit.
"""

from __future__ import annotations

import contextlib

import numpy as np

from tinytorch.core import spatial
from tinytorch.core.autograd import gradient
from tinytorch.core.tensor import Tensor

_CHANNEL_AXES = (0, 2, 3)


def _per_channel(v: np.ndarray) -> np.ndarray:
    return v.reshape(1, -1, 1, 1)


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int = 1, padding: int = 0) -> Tensor:
    """im2col by a loop over kernel offsets into (N*Ho*Wo, C*kh*kw) rows, then one matmul."""
    n, c, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    ho, wo = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    xp = np.pad(x.data, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    cols = np.empty((n, c, kh, kw, ho, wo), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xp[:, :, i:i + stride * ho:stride, j:j + stride * wo:stride]
    cols = cols.transpose(0, 4, 5, 1, 2, 3).reshape(n * ho * wo, c * kh * kw)
    out = cols @ weight.data.reshape(c_out, -1).T
    if bias is not None:
        out += bias.data
    parents = (x, weight) if bias is None else (x, weight, bias)
    return Tensor._from_op(out.reshape(n, ho, wo, c_out).transpose(0, 3, 1, 2), parents, "plain_conv2d",
                           cols=cols, padded_shape=xp.shape, stride=stride, padding=padding)


@gradient("plain_conv2d")
def _conv2d_backward(grad, ctx):
    x, weight = ctx.parents[:2]
    c_out, c_in, kh, kw = weight.shape
    n, _, hp, wp = ctx.saved["padded_shape"]
    s, p = ctx.saved["stride"], ctx.saved["padding"]
    ho, wo = grad.shape[2:]
    g = grad.transpose(0, 2, 3, 1).reshape(-1, c_out)
    d_weight = (g.T @ ctx.saved["cols"]).reshape(weight.shape)
    d_cols = (g @ weight.data.reshape(c_out, -1)).reshape(n, ho, wo, c_in, kh, kw)
    dxp = np.zeros((n, c_in, hp, wp), dtype=grad.dtype)
    for i in range(kh):
        for j in range(kw):
            dxp[:, :, i:i + s * ho:s, j:j + s * wo:s] += d_cols[..., i, j].transpose(0, 3, 1, 2)
    d_x = dxp[:, :, p:hp - p, p:wp - p]
    return (d_x, d_weight) if len(ctx.parents) == 2 else (d_x, d_weight, grad.sum(axis=_CHANNEL_AXES))


def batch_norm(x: Tensor, weight: Tensor, bias: Tensor, running_mean: np.ndarray, running_var: np.ndarray,
               training: bool, momentum: float, eps: float) -> Tensor:
    """The textbook formula on NCHW, keeping x_hat for backward."""
    if training:
        mean, var = x.data.mean(axis=_CHANNEL_AXES), x.data.var(axis=_CHANNEL_AXES)
        count = x.size // x.shape[1]
        running_mean[:] = (1 - momentum) * running_mean + momentum * mean
        running_var[:] = (1 - momentum) * running_var + momentum * var * count / (count - 1)
    else:
        mean, var = running_mean, running_var
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x.data - _per_channel(mean)) * _per_channel(inv_std)
    out = _per_channel(weight.data) * x_hat + _per_channel(bias.data)
    return Tensor._from_op(out.astype(x.dtype), (x, weight, bias), "plain_batch_norm",
                           x_hat=x_hat, inv_std=inv_std, training=training)


@gradient("plain_batch_norm")
def _batch_norm_backward(grad, ctx):
    x, weight, _ = ctx.parents
    x_hat, inv_std = ctx.saved["x_hat"], ctx.saved["inv_std"]
    d_bias = grad.sum(axis=_CHANNEL_AXES)
    d_weight = (grad * x_hat).sum(axis=_CHANNEL_AXES)
    d_x_hat = grad * _per_channel(weight.data)
    if not ctx.saved["training"]:
        return d_x_hat * _per_channel(inv_std), d_weight, d_bias
    count = x.size // x.shape[1]
    d_x = _per_channel(inv_std / count) * (count * d_x_hat - _per_channel(d_x_hat.sum(axis=_CHANNEL_AXES))
                                             - x_hat * _per_channel((d_x_hat * x_hat).sum(axis=_CHANNEL_AXES)))
    return d_x, d_weight, d_bias


def max_pool2d(self, x: Tensor) -> Tensor:
    """Non-overlapping windows (kernel == stride) as a reshape, max over the window axes."""
    k = self.kernel_size
    if self.stride != k:
        raise ValueError("the plain student's MaxPool2d handles kernel_size == stride only")
    n, c, h, w = x.shape
    windows = x.data[:, :, :h // k * k, :w // k * k].reshape(n, c, h // k, k, w // k, k)
    return Tensor._from_op(windows.max(axis=(3, 5)), (x,), "plain_max_pool2d", kernel=k)


@gradient("plain_max_pool2d")
def _max_pool2d_backward(grad, ctx):
    (x,) = ctx.parents
    k = ctx.saved["kernel"]
    n, c, ho, wo = ctx.out.shape
    windows = x.data[:, :, :ho * k, :wo * k].reshape(n, c, ho, k, wo, k)
    hit = windows == ctx.out[:, :, :, None, :, None]
    d_x = np.zeros_like(x.data)
    d_x[:, :, :ho * k, :wo * k] = (hit * grad[:, :, :, None, :, None]).reshape(n, c, ho * k, wo * k)
    return (d_x,)


@contextlib.contextmanager
def plain_student_ops():
    """Run Conv2d, BatchNorm2d and MaxPool2d on the plain versions above inside the block."""
    saved = spatial.conv2d, spatial.batch_norm, spatial.MaxPool2d.forward
    spatial.conv2d, spatial.batch_norm, spatial.MaxPool2d.forward = conv2d, batch_norm, max_pool2d
    try:
        yield
    finally:
        spatial.conv2d, spatial.batch_norm, spatial.MaxPool2d.forward = saved
