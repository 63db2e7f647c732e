"""Module 09: Conv2d against a slow loop reference, gradient checks, BatchNorm statistics."""

import numpy as np
import pytest

from tests.tinytorch.gradcheck import assert_gradients_match, random_tensor
from tinytorch import Tensor, no_grad
from tinytorch.core.spatial import (AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, MaxPool2d, col2im, conv2d,
                                    im2col)


def slow_conv2d(x, w, b, stride, padding):
    """The definition, one output element at a time."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    ho, wo = (h + 2 * padding - kh) // stride + 1, (wd + 2 * padding - kw) // stride + 1
    out = np.zeros((n, o, ho, wo))
    for i in range(n):
        for f in range(o):
            for r in range(ho):
                for q in range(wo):
                    patch = xp[i, :, r * stride:r * stride + kh, q * stride:q * stride + kw]
                    out[i, f, r, q] = np.sum(patch * w[f]) + (b[f] if b is not None else 0)
    return out


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.mark.parametrize("stride,padding,kernel", [(1, 0, 3), (1, 1, 3), (2, 1, 3), (2, 0, 2), (1, 2, (3, 2))])
def test_conv2d_matches_loop_reference(rng, stride, padding, kernel):
    layer = Conv2d(3, 4, kernel, stride=stride, padding=padding, rng=rng)
    layer.bias.data[:] = rng.normal(size=4)
    x = rng.normal(size=(2, 3, 7, 6)).astype(np.float32)
    out = layer(Tensor(x))
    expected = slow_conv2d(x, layer.weight.data, layer.bias.data, stride, padding)
    assert out.shape == expected.shape
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, expected, rtol=1e-4, atol=1e-4)


def test_conv2d_without_bias_has_only_weight_parameter(rng):
    layer = Conv2d(2, 3, 3, bias=False, rng=rng)
    assert [p.shape for p in layer.parameters()] == [(3, 2, 3, 3)]
    x = rng.normal(size=(1, 2, 5, 5)).astype(np.float32)
    np.testing.assert_allclose(layer(Tensor(x)).data, slow_conv2d(x, layer.weight.data, None, 1, 0), atol=1e-4)


def test_conv2d_channel_mismatch_is_a_clear_error(rng):
    with pytest.raises(ValueError, match="3 channels, weight expects 2"):
        Conv2d(2, 4, 3)(Tensor(np.zeros((1, 3, 5, 5))))
    with pytest.raises(ValueError, match="does not fit"):
        Conv2d(3, 4, 5)(Tensor(np.zeros((1, 3, 3, 3))))


def test_im2col_and_col2im_are_adjoint(rng):
    """<im2col(x), c> == <x, col2im(c)>: col2im is exactly the transpose that backward needs."""
    x = rng.normal(size=(2, 6, 5, 3))
    cols = im2col(x, 3, 2, 2)
    c = rng.normal(size=cols.shape)
    offset_major = c.reshape(len(c), 3 * 2, 3).transpose(1, 0, 2)
    assert np.isclose(np.sum(cols * c), np.sum(x * col2im(offset_major, x.shape, 3, 2, 2)))


@pytest.mark.parametrize("stride,padding", [(1, 1), (2, 1), (2, 0)])
def test_conv2d_gradients(rng, stride, padding):
    x = random_tensor(rng, 2, 3, 5, 5)
    w = random_tensor(rng, 4, 3, 3, 3)
    b = random_tensor(rng, 4)
    assert_gradients_match(lambda x, w, b: conv2d(x, w, b, stride, padding), x, w, b)


def test_conv2d_skips_input_gradient_when_not_needed(rng):
    x = Tensor(rng.normal(size=(1, 2, 4, 4)))
    w = random_tensor(rng, 3, 2, 3, 3)
    conv2d(x, w).sum().backward()
    assert x.grad is None and w.grad.shape == (3, 2, 3, 3)


@pytest.mark.parametrize("kernel,stride", [(2, None), (3, 2), (3, 1)])
def test_max_pool_gradients(rng, kernel, stride):
    x = random_tensor(rng, 2, 3, 6, 7)
    assert_gradients_match(MaxPool2d(kernel, stride), x)


@pytest.mark.parametrize("kernel,stride", [(2, None), (3, 2)])
def test_avg_pool_gradients(rng, kernel, stride):
    x = random_tensor(rng, 2, 3, 6, 7)
    assert_gradients_match(AvgPool2d(kernel, stride), x)


def test_pool_values():
    x = Tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(MaxPool2d(2)(x).data[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(AvgPool2d(2)(x).data[0, 0], [[2.5, 4.5], [10.5, 12.5]])


def test_max_pool_routes_a_tie_to_one_element_only():
    x = Tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    MaxPool2d(2)(x).sum().backward()
    assert x.grad.sum() == 1.0


def test_batch_norm2d_gradients_in_training_mode(rng):
    bn = BatchNorm2d(3)
    bn.weight = random_tensor(rng, 3)
    bn.bias = random_tensor(rng, 3)
    x = random_tensor(rng, 4, 3, 3, 2, scale=2.0)
    assert_gradients_match(lambda x, g, b: bn(x) * Tensor(np.arange(72.0).reshape(x.shape), dtype=np.float64),
                           x, bn.weight, bn.bias, atol=1e-4)


def test_batch_norm2d_gradients_in_eval_mode(rng):
    bn = BatchNorm2d(3).eval()
    bn.running_mean[:] = [0.5, -1, 2]
    bn.running_var[:] = [1, 4, 0.25]
    bn.weight = random_tensor(rng, 3)
    bn.bias = random_tensor(rng, 3)
    assert_gradients_match(lambda x, g, b: bn(x), random_tensor(rng, 2, 3, 2, 2), bn.weight, bn.bias)


def test_batch_norm2d_normalises_and_tracks_running_statistics(rng):
    bn = BatchNorm2d(2, momentum=0.5)
    x = rng.normal(loc=[3.0, -2.0], scale=[2.0, 0.5], size=(8, 5, 5, 2)).transpose(0, 3, 1, 2).astype(np.float32)
    out = bn(Tensor(x)).data
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, atol=1e-3)
    batch_mean, batch_var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3), ddof=1)
    np.testing.assert_allclose(bn.running_mean, 0.5 * batch_mean, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var, 0.5 + 0.5 * batch_var, rtol=1e-5)


def test_batch_norm2d_eval_uses_running_statistics_only():
    bn = BatchNorm2d(1)
    bn.running_mean[:] = 2.0
    bn.running_var[:] = 4.0
    bn.eval()
    with no_grad():
        out = bn(Tensor(np.full((3, 1, 2, 2), 6.0)))
    np.testing.assert_allclose(out.data, (6.0 - 2.0) / np.sqrt(4.0 + 1e-5), rtol=1e-6)
    assert bn.running_mean[0] == 2.0 and bn.running_var[0] == 4.0  # eval never moves them
    assert {"running_mean", "running_var"} <= set(bn.state_dict())


def test_batch_norm1d_gradients(rng):
    bn = BatchNorm1d(3)
    x = random_tensor(rng, 5, 3)
    assert_gradients_match(lambda x: bn(x) * Tensor(np.arange(15.0).reshape(5, 3), dtype=np.float64), x, atol=1e-4)
    with pytest.raises(ValueError, match="BatchNorm1d"):
        bn(Tensor(np.zeros((2, 3, 4, 4))))


def test_small_cnn_keeps_float32_and_trains_end_to_end(rng):
    """A conv -> BN -> pool stack in float32: every gradient float32 and the right shape."""
    from tinytorch import ReLU
    conv, bn, pool = Conv2d(3, 8, 3, padding=1, bias=False, rng=rng), BatchNorm2d(8), MaxPool2d(2)
    x = Tensor(rng.normal(size=(4, 3, 8, 8)).astype(np.float32))
    out = AvgPool2d(4)(pool(ReLU()(bn(conv(x)))))
    assert out.shape == (4, 8, 1, 1)
    out.sum().backward()
    for p in (conv.weight, bn.weight, bn.bias):
        assert p.grad.dtype == np.float32 and p.grad.shape == p.shape


def test_channels_last_memory_gives_the_same_values_and_gradients(rng):
    """Layers hand back NHWC memory behind NCHW views; results must not depend on the layout."""
    from tinytorch import ReLU
    conv, bn = Conv2d(3, 4, 3, padding=1, rng=rng), BatchNorm2d(4)
    x = rng.normal(size=(2, 3, 6, 6))
    results = []
    for data in (x, np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)):
        inp = Tensor(data, requires_grad=True, dtype=np.float64)
        conv.weight.grad = None
        out = AvgPool2d(3)(MaxPool2d(2, 1)(ReLU()(bn(conv(inp)))))
        (out * Tensor(np.arange(out.size, dtype=np.float64).reshape(out.shape), dtype=np.float64)).sum().backward()
        results.append((out.data, inp.grad, conv.weight.grad))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
