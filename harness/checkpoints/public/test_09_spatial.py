"""Module 09 - Spatial: public checks (shipped to students with the starter).

Inputs, weights and upstream gradients are made here and sent to the runner as literal
arrays; the expected outputs are computed here with NumPy (convolution by the definition,
pooling one window at a time) and the expected gradients by central finite differences of
those NumPy functions in float64.  The hidden checks import the helpers.
"""

import numpy as np

from harness.checkpoints import assert_array, check
from harness.checkpoints.public.test_07_autograd import grads, numeric_grad
from harness.checkpoints.public.test_13_attention import literal
from harness.checkpoints.public.test_16_kernels import conv2d

IMPORT = ("from tinytorch.core.tensor import Tensor\n"
          "from tinytorch.core.spatial import Conv2d, MaxPool2d, AvgPool2d, BatchNorm2d, "
          "BatchNorm1d")
RNG = np.random.default_rng(9)
X = RNG.normal(size=(2, 3, 7, 6))
W = RNG.normal(size=(4, 3, 3, 2))
BIAS = RNG.normal(size=4)
GRAD_TOLERANCE = {"rtol": 1e-5, "atol": 1e-7}


def tensor(name, array, grad=False):
    """Runner code making ``name`` a float64 Tensor of ``array`` (a leaf if ``grad``)."""
    return (f"{name} = Tensor({literal(np.asarray(array, dtype=np.float64))}, dtype=np.float64"
            + (", requires_grad=True)\n" if grad else ")\n"))


def conv_layer(name, weight, bias, stride=1, padding=0, dtype=np.float64):
    """Runner code for a Conv2d whose weight (and bias) are the given arrays."""
    c_out, c_in, kh, kw = weight.shape
    cast = np.dtype(dtype).name
    code = (f"{name} = Conv2d({c_in}, {c_out}, ({kh}, {kw}), stride={stride}, "
            f"padding={padding}, bias={bias is not None})\n"
            f"{name}.weight = Tensor({literal(weight)}, dtype=np.{cast}, requires_grad=True)\n")
    if bias is not None:
        code += f"{name}.bias = Tensor({literal(bias)}, dtype=np.{cast}, requires_grad=True)\n"
    return code


def pool(x, k, s, reduce):
    """k x k windows every s pixels, each reduced with ``reduce`` (np.max, np.mean)."""
    ho, wo = (x.shape[2] - k) // s + 1, (x.shape[3] - k) // s + 1
    out = np.empty(x.shape[:2] + (ho, wo))
    for i in range(ho):
        for j in range(wo):
            out[:, :, i, j] = reduce(x[:, :, i * s:i * s + k, j * s:j * s + k], axis=(2, 3))
    return out


def batch_norm(x, gamma, beta, mean=None, var=None, eps=1e-5):
    """Per-channel normalisation over every axis but 1; batch statistics unless given."""
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean = x.mean(axis=axes) if mean is None else mean
    var = x.var(axis=axes) if var is None else var
    return (gamma.reshape(shape) * (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
            + beta.reshape(shape))


def backward(expr, upstream):
    """Runner code: backward() from ``(expr * upstream).sum()``, so expr's gradient is upstream."""
    return f"({expr} * Tensor({literal(upstream)}, dtype=np.float64)).sum().backward()\n"


def assert_running_stats(student, mean, var, after):
    """``bn.running_mean`` and ``bn.running_var`` must be ``mean`` and ``var``."""
    for name, expected in (("running_mean", mean), ("running_var", var)):
        assert_array(student.array(f"bn.{name}"), expected, rtol=1e-5, atol=1e-6,
                     what=f"{name} after {after}")


def assert_gradients(student, loss, inputs, upstream):
    """Compare each named runner tensor's ``.grad`` with finite differences of
    ``sum(loss(**inputs) * upstream)``, computed here in float64."""
    for (name, value), got in zip(inputs.items(), grads(student, *inputs)):
        def f(v, name=name):
            return np.sum(loss(**{**inputs, name: v}) * upstream)
        assert_array(got, numeric_grad(f, value), what=f"{name}.grad", **GRAD_TOLERANCE)


@check("spatial.conv2d.values", "Conv2d(3, 4, (3, 2)) with given weights and bias computes the "
       "cross-correlation of a float32 batch", "public")
def test_conv2d_values(student):
    x32, w32, b32 = (a.astype(np.float32) for a in (X, W, BIAS))
    student.exec(f"{IMPORT}\n{conv_layer('conv', w32, b32, dtype=np.float32)}"
                 f"x = Tensor({literal(x32)})")
    assert_array(student.array("conv(x)"), conv2d(X, W, BIAS), dtype=np.float32, rtol=1e-4,
                 atol=1e-4, what="Conv2d(3, 4, (3, 2))(x) for x of shape (2, 3, 7, 6)")


@check("spatial.conv2d.stride_padding", "Conv2d with stride 2 and padding 1 gives the right "
       "output size and values", "public")
def test_conv2d_stride_padding(student):
    student.exec(f"{IMPORT}\n{conv_layer('conv', W, BIAS, stride=2, padding=1)}{tensor('x', X)}")
    assert_array(student.array("conv(x)"), conv2d(X, W, BIAS, stride=2, padding=1),
                 rtol=1e-10, atol=1e-10, what="Conv2d(3, 4, (3, 2), stride=2, padding=1)(x) "
                 "for x of shape (2, 3, 7, 6)")


@check("spatial.conv2d.no_bias", "Conv2d(..., bias=False) has no bias, adds nothing, and "
       "passes back the input and weight gradients", "public")
def test_conv2d_no_bias(student):
    student.exec(f"{IMPORT}\n{conv_layer('conv', W, None, padding=2)}{tensor('x', X, grad=True)}")
    assert_array(student.array("conv(x)"), conv2d(X, W, padding=2), rtol=1e-10, atol=1e-10,
                 what="Conv2d(3, 4, (3, 2), padding=2, bias=False)(x)")
    if student.eval("conv.bias is None") is not True:
        raise AssertionError("Conv2d(..., bias=False).bias should be None")
    upstream = RNG.normal(size=conv2d(X, W, padding=2).shape)
    student.exec(backward("conv(x)", upstream) + "weight = conv.weight")
    assert_gradients(student, lambda x, weight: conv2d(x, weight, padding=2),
                     {"x": X, "weight": W}, upstream)


@check("spatial.conv2d.gradients", "after backward() the input, weight and bias gradients of "
       "a stride-1, padding-1 Conv2d match finite differences", "public")
def test_conv2d_gradients(student):
    upstream = RNG.normal(size=conv2d(X, W, padding=1).shape)
    student.exec(f"{IMPORT}\n{conv_layer('conv', W, BIAS, padding=1)}{tensor('x', X, grad=True)}"
                 + backward("conv(x)", upstream) +
                 "weight, bias = conv.weight, conv.bias")
    assert_gradients(student, lambda x, weight, bias: conv2d(x, weight, bias, padding=1),
                     {"x": X, "weight": W, "bias": BIAS}, upstream)


@check("spatial.maxpool.values", "MaxPool2d(2) takes the largest value of each 2 x 2 window "
       "(stride defaults to the window)", "public")
def test_maxpool_values(student):
    x = RNG.normal(size=(2, 3, 6, 7))
    student.exec(f"{IMPORT}\n{tensor('x', x)}")
    assert_array(student.array("MaxPool2d(2)(x)"), pool(x, 2, 2, np.max), rtol=1e-12,
                 what="MaxPool2d(2)(x) for x of shape (2, 3, 6, 7)")


@check("spatial.maxpool.gradient", "MaxPool2d's gradient goes only to the largest element of "
       "each window", "public")
def test_maxpool_gradient(student):
    x = RNG.permutation(72).reshape(2, 1, 6, 6) / 10.0    # distinct values: one max a window
    upstream = RNG.normal(size=(2, 1, 3, 3))
    student.exec(f"{IMPORT}\n{tensor('x', x, grad=True)}"
                 + backward("MaxPool2d(2)(x)", upstream))
    assert_gradients(student, lambda x: pool(x, 2, 2, np.max), {"x": x}, upstream)


def assert_pool(student, layer, x, k, s, reduce):
    """``layer(x)`` must pool like ``pool(x, k, s, reduce)``, its gradient as finite
    differences say."""
    expected = pool(x, k, s, reduce)
    upstream = RNG.normal(size=expected.shape)
    student.exec(f"{IMPORT}\n{tensor('x', x, grad=True)}y = {layer}(x)\n"
                 + backward("y", upstream))
    assert_array(student.array("y"), expected, rtol=1e-12,
                 what=f"{layer}(x) for x of shape {x.shape}")
    assert_gradients(student, lambda x: pool(x, k, s, reduce), {"x": x}, upstream)


@check("spatial.avgpool.values_gradient", "AvgPool2d(2) averages each window and shares the "
       "gradient equally among its elements", "public")
def test_avgpool(student):
    assert_pool(student, "AvgPool2d(2)", RNG.normal(size=(1, 2, 4, 6)), 2, 2, np.mean)


BN_X = RNG.normal(2.0, 3.0, size=(4, 3, 3, 3))
GAMMA, BETA = np.array([1.5, -0.5, 2.0]), np.array([0.1, 0.2, -0.3])


def batch_norm_layer(name, cls="BatchNorm2d", gamma=GAMMA, beta=BETA, momentum=0.1, eps=1e-5):
    return (f"{name} = {cls}({len(gamma)}, momentum={momentum}, eps={eps})\n"
            f"{name}.weight = Tensor({literal(gamma)}, dtype=np.float64, requires_grad=True)\n"
            f"{name}.bias = Tensor({literal(beta)}, dtype=np.float64, requires_grad=True)\n")


@check("spatial.batchnorm.train", "BatchNorm2d in training mode normalises each channel with "
       "the batch's mean and variance, then scales and shifts", "public")
def test_batchnorm_train(student):
    student.exec(f"{IMPORT}\n{batch_norm_layer('bn')}{tensor('x', BN_X)}")
    assert_array(student.array("bn(x)"), batch_norm(BN_X, GAMMA, BETA), rtol=1e-6, atol=1e-6,
                 what="BatchNorm2d(3)(x) in training mode")


@check("spatial.batchnorm.running_stats", "each training step moves running_mean and "
       "running_var (unbiased) towards the batch's, by momentum", "public")
def test_batchnorm_running_stats(student):
    second = RNG.normal(-1.0, 0.5, size=(2, 3, 4, 4))
    student.exec(f"{IMPORT}\n{batch_norm_layer('bn', momentum=0.2)}{tensor('a', BN_X)}"
                 f"{tensor('b', second)}_ = bn(a)\n_ = bn(b)")
    mean, var = np.zeros(3), np.ones(3)
    for batch in (BN_X, second):
        mean = 0.8 * mean + 0.2 * batch.mean(axis=(0, 2, 3))
        var = 0.8 * var + 0.2 * batch.var(axis=(0, 2, 3), ddof=1)
    assert_running_stats(student, mean, var, "two training batches (momentum 0.2)")


@check("spatial.batchnorm.eval", "BatchNorm2d in eval mode uses the running statistics and "
       "leaves them unchanged", "public")
def test_batchnorm_eval(student):
    x = RNG.normal(size=(2, 3, 2, 2))
    student.exec(f"{IMPORT}\n{batch_norm_layer('bn')}{tensor('a', BN_X)}{tensor('x', x)}"
                 "_ = bn(a)\nbn.eval()\ny = bn(x)")
    mean = 0.1 * BN_X.mean(axis=(0, 2, 3))
    var = 0.9 + 0.1 * BN_X.var(axis=(0, 2, 3), ddof=1)
    assert_array(student.array("y"), batch_norm(x, GAMMA, BETA, mean, var), rtol=1e-5,
                 atol=1e-6, what="bn(x) in eval mode after one training batch")
    assert_running_stats(student, mean, var, "one training and one eval-mode call")


@check("spatial.batchnorm.gradients", "BatchNorm2d's input, weight and bias gradients in "
       "training mode match finite differences", "public")
def test_batchnorm_gradients(student):
    upstream = RNG.normal(size=BN_X.shape)
    student.exec(f"{IMPORT}\n{batch_norm_layer('bn')}{tensor('x', BN_X, grad=True)}"
                 + backward("bn(x)", upstream) +
                 "gamma, beta = bn.weight, bn.bias")
    assert_gradients(student, lambda x, gamma, beta: batch_norm(x, gamma, beta),
                     {"x": BN_X, "gamma": GAMMA, "beta": BETA}, upstream)
