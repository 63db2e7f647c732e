"""Module 09 - Spatial: public checks (shipped to students with the starter).

Inputs, weights and upstream gradients are made here and sent to the runner as literal
arrays; the expected outputs are computed here with NumPy (convolution by the definition,
pooling one window at a time) and the expected gradients by central finite differences of
those NumPy functions in float64.  The hidden checks import the helpers.
"""

import numpy as np

from harness.checkpoints import assert_array, check
from harness.checkpoints.inputs import literal
from harness.checkpoints.public.test_07_autograd import grads, numeric_grad
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


def conv_case(rng):
    """A job's own conv input, weight and bias: batch 1-2, 1-3 channels in, 1-4 out, kernels
    1-3 on a side, images 4-7 on a side."""
    n, c_in, c_out = int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(1, 5))
    kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
    h, w = (int(v) for v in rng.integers(4, 8, size=2))
    return (rng.normal(size=(n, c_in, h, w)), rng.normal(size=(c_out, c_in, kh, kw)),
            rng.normal(size=c_out))


def described(weight, x, **options):
    """How a student reads the conv layer and input of a case."""
    c_out, c_in, kh, kw = weight.shape
    extra = "".join(f", {k}={v}" for k, v in options.items())
    return f"Conv2d({c_in}, {c_out}, ({kh}, {kw}){extra})(x) for x of shape {x.shape}"


@check("spatial.conv2d.values", "Conv2d(3, 4, (3, 2)) with given weights and bias computes the "
       "cross-correlation of a float32 batch", "public")
def test_conv2d_values(student, rng):
    for x, w, b in ((X, W, BIAS), conv_case(rng)):
        x32, w32, b32 = (a.astype(np.float32) for a in (x, w, b))
        student.exec(f"{IMPORT}\n{conv_layer('conv', w32, b32, dtype=np.float32)}"
                     f"x = Tensor({literal(x32)})")
        assert_array(student.array("conv(x)"), conv2d(x, w, b), dtype=np.float32, rtol=1e-4,
                     atol=1e-4, what=described(w, x))


@check("spatial.conv2d.stride_padding", "Conv2d with stride 2 and padding 1 gives the right "
       "output size and values", "public")
def test_conv2d_stride_padding(student, rng):
    for x, w, b in ((X, W, BIAS), conv_case(rng)):
        student.exec(f"{IMPORT}\n{conv_layer('conv', w, b, stride=2, padding=1)}{tensor('x', x)}")
        assert_array(student.array("conv(x)"), conv2d(x, w, b, stride=2, padding=1),
                     rtol=1e-10, atol=1e-10, what=described(w, x, stride=2, padding=1))


@check("spatial.conv2d.no_bias", "Conv2d(..., bias=False) has no bias, adds nothing, and "
       "passes back the input and weight gradients", "public")
def test_conv2d_no_bias(student, rng):
    for (x, w, _), source in (((X, W, None), RNG), (conv_case(rng), rng)):
        student.exec(f"{IMPORT}\n{conv_layer('conv', w, None, padding=2)}"
                     f"{tensor('x', x, grad=True)}")
        assert_array(student.array("conv(x)"), conv2d(x, w, padding=2), rtol=1e-10, atol=1e-10,
                     what=described(w, x, padding=2, bias=False))
        if student.eval("conv.bias is None") is not True:
            raise AssertionError("Conv2d(..., bias=False).bias should be None")
        upstream = source.normal(size=conv2d(x, w, padding=2).shape)
        student.exec(backward("conv(x)", upstream) + "weight = conv.weight")
        assert_gradients(student, lambda x, weight: conv2d(x, weight, padding=2),
                         {"x": x, "weight": w}, upstream)


@check("spatial.conv2d.gradients", "after backward() the input, weight and bias gradients of "
       "a stride-1, padding-1 Conv2d match finite differences", "public")
def test_conv2d_gradients(student, rng):
    for (x, w, b), source in (((X, W, BIAS), RNG), (conv_case(rng), rng)):
        upstream = source.normal(size=conv2d(x, w, padding=1).shape)
        student.exec(f"{IMPORT}\n{conv_layer('conv', w, b, padding=1)}"
                     f"{tensor('x', x, grad=True)}" + backward("conv(x)", upstream) +
                     "weight, bias = conv.weight, conv.bias")
        assert_gradients(student, lambda x, weight, bias: conv2d(x, weight, bias, padding=1),
                         {"x": x, "weight": w, "bias": b}, upstream)


def image_shape(rng):
    """A job's own (batch, channels, height, width): 1-2 images, 1-3 channels, 4-9 pixels."""
    return (int(rng.integers(1, 3)), int(rng.integers(1, 4)), *(int(v) for v in
                                                                rng.integers(4, 10, size=2)))


@check("spatial.maxpool.values", "MaxPool2d(2) takes the largest value of each 2 x 2 window "
       "(stride defaults to the window)", "public")
def test_maxpool_values(student, rng):
    for x in (RNG.normal(size=(2, 3, 6, 7)), rng.normal(size=image_shape(rng))):
        student.exec(f"{IMPORT}\n{tensor('x', x)}")
        assert_array(student.array("MaxPool2d(2)(x)"), pool(x, 2, 2, np.max), rtol=1e-12,
                     what=f"MaxPool2d(2)(x) for x of shape {x.shape}")


def distinct(rng, shape, scale):
    """Values 0, 1/scale, 2/scale... in a random order: one maximum in every window."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) / scale


@check("spatial.maxpool.gradient", "MaxPool2d's gradient goes only to the largest element of "
       "each window", "public")
def test_maxpool_gradient(student, rng):
    for x, source in ((distinct(RNG, (2, 1, 6, 6), 10.0), RNG),
                      (distinct(rng, image_shape(rng), 10.0), rng)):
        upstream = source.normal(size=pool(x, 2, 2, np.max).shape)
        student.exec(f"{IMPORT}\n{tensor('x', x, grad=True)}"
                     + backward("MaxPool2d(2)(x)", upstream))
        assert_gradients(student, lambda x: pool(x, 2, 2, np.max), {"x": x}, upstream)


def assert_pool(student, layer, x, k, s, reduce, source=RNG):
    """``layer(x)`` must pool like ``pool(x, k, s, reduce)``, its gradient as finite
    differences say (the upstream gradient drawn from ``source``)."""
    expected = pool(x, k, s, reduce)
    upstream = source.normal(size=expected.shape)
    student.exec(f"{IMPORT}\n{tensor('x', x, grad=True)}y = {layer}(x)\n"
                 + backward("y", upstream))
    assert_array(student.array("y"), expected, rtol=1e-12,
                 what=f"{layer}(x) for x of shape {x.shape}")
    assert_gradients(student, lambda x: pool(x, k, s, reduce), {"x": x}, upstream)


@check("spatial.avgpool.values_gradient", "AvgPool2d(2) averages each window and shares the "
       "gradient equally among its elements", "public")
def test_avgpool(student, rng):
    assert_pool(student, "AvgPool2d(2)", RNG.normal(size=(1, 2, 4, 6)), 2, 2, np.mean)
    assert_pool(student, "AvgPool2d(2)", rng.normal(size=image_shape(rng)), 2, 2, np.mean, rng)


BN_X = RNG.normal(2.0, 3.0, size=(4, 3, 3, 3))
GAMMA, BETA = np.array([1.5, -0.5, 2.0]), np.array([0.1, 0.2, -0.3])


def batch_norm_layer(name, cls="BatchNorm2d", gamma=GAMMA, beta=BETA, momentum=0.1, eps=1e-5):
    return (f"{name} = {cls}({len(gamma)}, momentum={momentum}, eps={eps})\n"
            f"{name}.weight = Tensor({literal(gamma)}, dtype=np.float64, requires_grad=True)\n"
            f"{name}.bias = Tensor({literal(beta)}, dtype=np.float64, requires_grad=True)\n")


def bn_case(rng):
    """A job's own batch-norm input (2-4 images, 2-4 channels, 2-4 pixels a side; channel
    means and spreads of their own), weight and bias."""
    n, c, h, w = (int(v) for v in rng.integers(2, 5, size=4))
    x = rng.normal(rng.uniform(-3, 3, (1, c, 1, 1)), rng.uniform(0.5, 3, (1, c, 1, 1)),
                   size=(n, c, h, w))
    return x, rng.uniform(0.5, 2.0, c) * rng.choice([-1, 1], c), rng.normal(size=c)


@check("spatial.batchnorm.train", "BatchNorm2d in training mode normalises each channel with "
       "the batch's mean and variance, then scales and shifts", "public")
def test_batchnorm_train(student, rng):
    for x, gamma, beta in ((BN_X, GAMMA, BETA), bn_case(rng)):
        student.exec(f"{IMPORT}\n{batch_norm_layer('bn', gamma=gamma, beta=beta)}"
                     f"{tensor('x', x)}")
        assert_array(student.array("bn(x)"), batch_norm(x, gamma, beta), rtol=1e-6, atol=1e-6,
                     what=f"BatchNorm2d({len(gamma)})(x) in training mode, x of shape {x.shape}")


def running_stats(batches, momentum, channels):
    """running_mean and running_var after training steps on ``batches`` (unbiased variance)."""
    mean, var = np.zeros(channels), np.ones(channels)
    for batch in batches:
        axes = (0,) + tuple(range(2, batch.ndim))
        mean = (1 - momentum) * mean + momentum * batch.mean(axis=axes)
        var = (1 - momentum) * var + momentum * batch.var(axis=axes, ddof=1)
    return mean, var


def with_second_batch(rng):
    """``bn_case`` and another batch of the same channels (its own size and statistics)."""
    x, gamma, beta = bn_case(rng)
    second = rng.normal(float(rng.uniform(-2, 2)), float(rng.uniform(0.3, 2)),
                        size=(int(rng.integers(2, 5)), x.shape[1], 3, 2))
    return x, second, gamma, beta


@check("spatial.batchnorm.running_stats", "each training step moves running_mean and "
       "running_var (unbiased) towards the batch's, by momentum", "public")
def test_batchnorm_running_stats(student, rng):
    second = RNG.normal(-1.0, 0.5, size=(2, 3, 4, 4))
    momentum = round(float(rng.uniform(0.05, 0.5)), 3)
    for (a, b, gamma, beta), momentum in (((BN_X, second, GAMMA, BETA), 0.2),
                                          (with_second_batch(rng), momentum)):
        student.exec(f"{IMPORT}\n"
                     f"{batch_norm_layer('bn', gamma=gamma, beta=beta, momentum=momentum)}"
                     f"{tensor('a', a)}{tensor('b', b)}_ = bn(a)\n_ = bn(b)")
        mean, var = running_stats((a, b), momentum, len(gamma))
        assert_running_stats(student, mean, var, f"two training batches (momentum {momentum})")


@check("spatial.batchnorm.eval", "BatchNorm2d in eval mode uses the running statistics and "
       "leaves them unchanged", "public")
def test_batchnorm_eval(student, rng):
    for a, x, gamma, beta in ((BN_X, RNG.normal(size=(2, 3, 2, 2)), GAMMA, BETA),
                              with_second_batch(rng)):
        student.exec(f"{IMPORT}\n{batch_norm_layer('bn', gamma=gamma, beta=beta)}"
                     f"{tensor('a', a)}{tensor('x', x)}_ = bn(a)\nbn.eval()\ny = bn(x)")
        mean, var = running_stats((a,), 0.1, len(gamma))
        assert_array(student.array("y"), batch_norm(x, gamma, beta, mean, var), rtol=1e-5,
                     atol=1e-6, what="bn(x) in eval mode after one training batch")
        assert_running_stats(student, mean, var, "one training and one eval-mode call")


@check("spatial.batchnorm.gradients", "BatchNorm2d's input, weight and bias gradients in "
       "training mode match finite differences", "public")
def test_batchnorm_gradients(student, rng):
    for (x, gamma, beta), source in (((BN_X, GAMMA, BETA), RNG), (bn_case(rng), rng)):
        upstream = source.normal(size=x.shape)
        student.exec(f"{IMPORT}\n{batch_norm_layer('bn', gamma=gamma, beta=beta)}"
                     f"{tensor('x', x, grad=True)}" + backward("bn(x)", upstream) +
                     "gamma, beta = bn.weight, bn.bias")
        assert_gradients(student, lambda x, gamma, beta: batch_norm(x, gamma, beta),
                         {"x": x, "gamma": gamma, "beta": beta}, upstream)
