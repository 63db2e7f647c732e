"""Module 09 - Spatial: hidden checks (graders only): overlapping windows, ties, eval-mode
gradients, bad input, and Conv2d's speed and im2col memory against the reference."""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check, ratio_to_reference
from harness.checkpoints.inputs import Cases, fixed, floats, results
from harness.checkpoints.perf import Workload, peak_ratio_to_reference
from harness.checkpoints.public.test_07_autograd import add_graph, grads, numeric_gradients
from harness.checkpoints.public.test_09_spatial import (
    GAMMA, BETA, IMPORT, RNG, assert_gradients, assert_pool, assert_running_stats, backward,
    batch_norm, batch_norm_layer, bn_case, conv_layer, distinct, pool, tensor)
from harness.checkpoints.public.test_16_kernels import conv2d

SPEED_BOUND = 5.0   # im2col students land at 1-2.5x; a Python loop over the pixels at ~9x
MEMORY_BOUND = 2.5   # im2col copying every window before striding lands at about 3x


@check("spatial.conv2d.overlap_gradients", "a 3 x 3 Conv2d with stride 2 and padding 1 "
       "(overlapping windows) passes back gradients that match finite differences", "hidden")
def test_conv2d_overlap_gradients(student, rng):
    c_in, c_out = (int(v) for v in rng.integers(1, 4, size=2))
    shapes = ((1, c_in, *(int(v) for v in rng.integers(5, 9, size=2))), (c_out, c_in, 3, 3),
              (c_out,))
    for (x, w, b), source in (((RNG.normal(size=(2, 2, 7, 8)), RNG.normal(size=(3, 2, 3, 3)),
                                RNG.normal(size=3)), RNG),
                              ([rng.normal(size=shape) for shape in shapes], rng)):
        upstream = source.normal(size=conv2d(x, w, b, 2, 1).shape)
        student.exec(f"{IMPORT}\n{conv_layer('conv', w, b, stride=2, padding=1)}"
                     f"{tensor('x', x, grad=True)}"
                     + backward("conv(x)", upstream) +
                     "weight, bias = conv.weight, conv.bias")
        assert_gradients(student, lambda x, weight, bias: conv2d(x, weight, bias, 2, 1),
                         {"x": x, "weight": w, "bias": b}, upstream)


@check("spatial.conv2d.init", "a new Conv2d(3, 8, 3) has He-uniform weights (8, 3, 3, 3), a zero "
       "bias, and computes with them", "hidden")
def test_conv2d_init(student, rng):
    x = RNG.normal(size=(1, 3, 5, 5))
    x = np.concatenate([x, rng.normal(size=(int(rng.integers(1, 3)), 3, 5, 5))])
    student.exec(f"{IMPORT}\nconv = Conv2d(3, 8, 3)\n{tensor('x', x)}"
                 "y = conv(Tensor(x.data.astype(np.float32)))")
    weight, bias = student.array("conv.weight"), student.array("conv.bias")
    assert_equal(list(weight.shape), [8, 3, 3, 3], what="Conv2d(3, 8, 3).weight.shape")
    assert_array(bias, np.zeros(8), what="Conv2d(3, 8, 3).bias")
    bound = np.sqrt(6 / 27)
    if np.abs(weight).max() > bound or weight.std() < bound / 3:
        raise AssertionError(f"Conv2d(3, 8, 3).weight should be uniform in ±sqrt(6 / fan_in) "
                             f"= ±{bound:.3f}; it ranges over {weight.min():.3f}.."
                             f"{weight.max():.3f}")
    assert_array(student.array("y"), conv2d(x, weight.astype(np.float64)), rtol=1e-4,
                 atol=1e-5, what="Conv2d(3, 8, 3)(x) with its own initial weights")


@check("spatial.conv2d.bad_input", "Conv2d raises ValueError for an input with the wrong number "
       "of channels or smaller than the kernel", "hidden")
def test_conv2d_bad_input(student, rng):
    student.exec(f"{IMPORT}\nconv = Conv2d(3, 2, 3)\n_ = conv(Tensor(np.zeros((1, 3, 4, 4))))")
    student.raises("conv(Tensor(np.zeros((1, 2, 4, 4))))", "ValueError")
    student.raises("conv(Tensor(np.zeros((1, 3, 2, 2))))", "ValueError")
    c_in, k = int(rng.integers(1, 5)), int(rng.integers(2, 5))
    wrong = int(rng.choice([c for c in range(1, 6) if c != c_in]))
    short = int(rng.integers(1, k))
    student.exec(f"bad = Conv2d({c_in}, 2, {k})\n"
                 f"_ = bad(Tensor(np.ones((1, {c_in}, {k}, {k + 1}))))")
    for shape in ((2, wrong, k + 1, k + 1), (1, c_in, short, k + 2), (1, c_in, k + 2, short)):
        student.raises(f"bad(Tensor(np.ones({shape})))", "ValueError")


@check("spatial.maxpool.overlapping", "MaxPool2d(3, stride=2) (overlapping windows): values, "
       "and an element that is the max of two windows gets both gradients", "hidden")
def test_maxpool_overlapping(student, rng):
    x = RNG.permutation(98).reshape(2, 1, 7, 7) / 7.0   # distinct values: one max a window
    assert_pool(student, "MaxPool2d(3, stride=2)", x, 3, 2, np.max)
    shape = (1, int(rng.integers(1, 3)), *(int(v) for v in rng.integers(5, 10, size=2)))
    assert_pool(student, "MaxPool2d(3, stride=2)", distinct(rng, shape, 7.0), 3, 2, np.max, rng)


@check("spatial.maxpool.ties", "a window whose maximum appears twice passes its gradient back "
       "once, to a maximal element", "hidden")
def test_maxpool_ties(student, rng):
    x = np.array([[[[1.0, 5.0, 0.0, 2.0], [5.0, 2.0, 2.0, 2.0]]]])
    tied = rng.integers(0, 3, size=(1, 1, 2, 2 * int(rng.integers(3, 7)))).astype(float)
    for x, upstream in ((x, np.array([[[[3.0, 4.0]]]])),
                        (tied, rng.uniform(1, 5, size=(1, 1, 1, tied.shape[3] // 2)).round(2))):
        assert_ties_split(student, x, upstream)


def assert_ties_split(student, x, upstream):
    """Each 2 x 2 window of a one-row-of-windows ``x`` passes its upstream gradient once, to
    elements equal to its maximum."""
    student.exec(f"{IMPORT}\n{tensor('x', x, grad=True)}"
                 + backward("MaxPool2d(2)(x)", upstream))
    (grad,) = grads(student, "x")
    for j, g_out in enumerate(upstream.ravel()):
        g, values = grad[..., 2 * j:2 * j + 2], x[..., 2 * j:2 * j + 2]
        if not np.isclose(g.sum(), g_out) or np.any(g[values < values.max()] != 0):
            raise AssertionError(f"x.grad is\n{grad}\nbut each 2 x 2 window of x =\n{x}\n"
                                 f"should pass its gradient ({upstream.ravel().tolist()}) once, "
                                 "to elements equal to its maximum")


@check("spatial.batchnorm.eval_gradient", "in eval mode BatchNorm2d's input gradient is "
       "weight / sqrt(running_var + eps) times the upstream gradient", "hidden")
def test_batchnorm_eval_gradient(student, rng):
    x = RNG.normal(size=(2, 3, 2, 3))
    for (x, gamma, beta), source in (((x, GAMMA, BETA), RNG), (bn_case(rng), rng)):
        upstream = source.normal(size=x.shape)
        student.exec(f"{IMPORT}\n{batch_norm_layer('bn', gamma=gamma, beta=beta)}bn.eval()\n"
                     f"{tensor('x', x, grad=True)}" + backward("bn(x)", upstream) +
                     "gamma, beta = bn.weight, bn.bias")
        mean, var = np.zeros(len(gamma)), np.ones(len(gamma))
        assert_gradients(student, lambda x, gamma, beta: batch_norm(x, gamma, beta, mean, var),
                         {"x": x, "gamma": gamma, "beta": beta}, upstream)


@check("spatial.batchnorm1d.values_gradients", "BatchNorm1d normalises each feature of a "
       "(batch, features) input; its gradients match finite differences", "hidden")
def test_batchnorm1d(student, rng):
    x, upstream = RNG.normal(1.0, 2.0, size=(5, 3)), RNG.normal(size=(5, 3))
    images, gamma, beta = bn_case(rng)
    rows = images.transpose(0, 2, 3, 1).reshape(-1, len(gamma))   # each pixel a row of features
    for x, upstream, gamma, beta in ((x, upstream, GAMMA, BETA),
                                     (rows, rng.normal(size=rows.shape), gamma, beta)):
        layer = batch_norm_layer('bn', cls='BatchNorm1d', gamma=gamma, beta=beta)
        student.exec(f"{IMPORT}\n{layer}"
                     f"{tensor('x', x, grad=True)}y = bn(x)\n"
                     + backward("y", upstream) +
                     "gamma, beta = bn.weight, bn.bias")
        assert_array(student.array("y"), batch_norm(x, gamma, beta), rtol=1e-6, atol=1e-6,
                     what=f"BatchNorm1d({len(gamma)})(x) for x of shape {x.shape}")
        assert_gradients(student, lambda x, gamma, beta: batch_norm(x, gamma, beta),
                         {"x": x, "gamma": gamma, "beta": beta}, upstream)


def conv_work(x_shape, c_out, stride, padding):
    """Conv2d(c_in, c_out, 3, stride, padding) on a float32 batch of ``x_shape``, weights and
    batch drawn fresh for each repetition."""
    c_in = x_shape[1]
    return Workload(
        f"{IMPORT}\nconv = Conv2d({c_in}, {c_out}, 3, stride={stride}, padding={padding})",
        lambda rng: {"x": rng.normal(size=x_shape).astype(np.float32),
                     "w": rng.normal(size=(c_out, c_in, 3, 3)).astype(np.float32),
                     "b": rng.normal(size=c_out).astype(np.float32)},
        "conv(Tensor(x))", prepare="conv.weight.data[...] = w\nconv.bias.data[...] = b",
        what=f"Conv2d({c_in}, {c_out}, 3, stride={stride}, padding={padding}) on {x_shape}")


@check("spatial.conv2d.speed", "Conv2d's forward on a 128 x 128 image is about as fast as the "
       "reference's (no Python loop over pixels)", "hidden")
def test_conv2d_speed(student, reference, rng):
    # few channels and many pixels: a loop over the 16384 output pixels stands far above the
    # fixed cost of a timed request (sending the inputs and the result)
    ratio = ratio_to_reference(student, reference, rng, conv_work((1, 4, 128, 128), 8, 1, 1))
    assert ratio <= SPEED_BOUND, (f"Conv2d(4, 8, 3, padding=1) took {ratio:.1f}x the "
                                  f"reference's time (at most {SPEED_BOUND:.0f}x passes)")


@check("spatial.conv2d.memory", "Conv2d(16, 16, 3, stride=2) allocates about as much as the "
       "reference (one im2col matrix of the strided patches)", "hidden")
def test_conv2d_memory(student, reference, rng):
    ratio, peak, reference_peak = peak_ratio_to_reference(
        student, reference, rng, conv_work((16, 16, 64, 64), 16, 2, 1))
    assert ratio <= MEMORY_BOUND, (
        f"a forward pass allocated {peak / 2**20:.2f} MiB at its peak, {ratio:.1f}x the "
        f"reference's {reference_peak / 2**20:.2f} MiB (at most {MEMORY_BOUND}x passes): build the "
        "im2col matrix from the strided windows only, in the input's dtype")


def conv_configs(rng):
    """(input shape, weight shape, stride, padding): batch 1, one input channel, non-square
    kernels and images, strides up to 3, padding up to 2, a 1 x 1 kernel and a kernel as large
    as the padded input."""
    n, c_in, c_out = (int(v) for v in rng.integers(1, 4, size=3))
    h, w = (int(v) for v in rng.choice(np.arange(5, 10), size=2, replace=False))
    return [((1, 1, h, w), (2, 1, 3, 3), 1, 0), ((n, c_in, h, w), (c_out, c_in, 2, 3), 2, 1),
            ((n, 2, h, w), (3, 2, 3, 1), 3, 2), ((2, c_in, h, w), (4, c_in, 1, 1), 1, 0),
            ((1, 2, 4, 5), (2, 2, 6, 7), 1, 1)]


@check("spatial.conv2d.configs", "Conv2d computes the right values for batch 1, one channel, "
       "non-square kernels and images, 1 x 1 kernels, strides up to 3 and padding up to 2",
       "hidden")
def test_conv2d_configs(student, rng):
    for generator in (fixed(91), rng):
        code, expected = [IMPORT], []
        for index, (x_shape, w_shape, stride, padding) in enumerate(conv_configs(generator)):
            x, w, b = (generator.normal(size=s) for s in (x_shape, w_shape, w_shape[:1]))
            code.append(conv_layer(f"conv{index}", w, b, stride, padding).rstrip()
                        + "\n" + tensor(f"x{index}", x).rstrip())
            expected.append((conv2d(x, w, b, stride, padding),
                             f"Conv2d({w_shape[1]}, {w_shape[0]}, {w_shape[2:]}, stride={stride}, "
                             f"padding={padding}) on an input of shape {x_shape}"))
        student.exec("\n".join(code))
        got = results(student, "[" + ", ".join(f"conv{i}(x{i})" for i in range(len(expected)))
                      + "]", len(expected))
        for value, (want, what) in zip(got, expected):
            assert_array(value, want, rtol=1e-10, atol=1e-10, what=what)


@check("spatial.pool.strides", "MaxPool2d and AvgPool2d with a stride other than the window "
       "(1, 2 or 3) give the right values and gradients", "hidden")
def test_pool_strides(student, rng):
    for layer, reduce in (("MaxPool2d", np.max), ("AvgPool2d", np.mean)):
        for k, s in ((2, 1), (3, 2), (2, 3)):
            x = rng.permutation(2 * 6 * 7).reshape(1, 2, 6, 7) / 9.0   # one max a window
            assert_pool(student, f"{layer}({k}, stride={s})", x, k, s, reduce)


@check("spatial.batchnorm.tiny_variance", "BatchNorm2d normalises a channel with a tiny "
       "variance (1e-6) and a constant channel without blowing up, with eps 1e-5 or 1e-3",
       "hidden")
def test_batchnorm_tiny_variance(student, rng):
    x = rng.normal(size=(3, 3, 2, 4))
    x[:, 0] = 0.5 + 1e-3 * x[:, 0]
    x[:, 1] = -2.0
    student.exec(f"{IMPORT}\n{batch_norm_layer('bn')}{batch_norm_layer('wide', eps=1e-3)}"
                 f"{tensor('x', x)}")
    for name, eps in (("bn", 1e-5), ("wide", 1e-3)):
        assert_array(student.array(f"{name}(x)"), batch_norm(x, GAMMA, BETA, eps=eps), rtol=1e-6,
                     atol=1e-6, what=f"BatchNorm2d(3, eps={eps})(x) in training mode where "
                                     "channel 0 has variance about 1e-6 and channel 1 is constant")


@check("spatial.batchnorm.steps", "over several training steps with another momentum the "
       "running statistics follow each batch; eval mode then uses them (BatchNorm2d and 1d)",
       "hidden")
def test_batchnorm_steps(student, rng):
    momentum = round(float(rng.uniform(0.05, 0.5)), 3)
    for cls, shape in (("BatchNorm2d", (3, 3, 2, 3)), ("BatchNorm1d", (6, 3))):
        axes = (0,) + tuple(range(2, len(shape)))
        batches = [rng.normal(float(rng.uniform(-2, 2)), float(rng.uniform(0.5, 3)), size=shape)
                   for _ in range(4)]
        probe = rng.normal(size=shape)
        student.exec(f"{IMPORT}\n{batch_norm_layer('bn', cls=cls, momentum=momentum)}"
                     + "".join(tensor(f"b{i}", b) for i, b in enumerate(batches))
                     + tensor("probe", probe)
                     + "".join(f"_ = bn(b{i})\n" for i in range(len(batches)))
                     + "bn.eval()\ny = bn(probe)")
        mean, var = np.zeros(3), np.ones(3)
        for batch in batches:
            mean = (1 - momentum) * mean + momentum * batch.mean(axis=axes)
            var = (1 - momentum) * var + momentum * batch.var(axis=axes, ddof=1)
        assert_running_stats(student, mean, var, f"4 training batches of {cls}(3, "
                             f"momentum={momentum})")
        assert_array(student.array("y"), batch_norm(probe, GAMMA, BETA, mean, var), rtol=1e-5,
                     atol=1e-6, what=f"{cls} in eval mode after 4 training batches")


@check("spatial.float32.kept", "conv2d (stride 2, padding 1), MaxPool2d, AvgPool2d, BatchNorm2d and "
       "BatchNorm1d keep float32 inputs float32, in their outputs and in every gradient; "
       "BatchNorm stays right on float32 channels with a large mean and a small spread", "hidden")
def test_float32_kept(student, rng):
    cases = Cases(f"{IMPORT}\nfrom tinytorch.core.spatial import conv2d as conv")
    x = (rng.permutation(180).reshape(2, 3, 6, 5) / 60 - 1.5).astype(np.float32)  # one max a window
    w, b = floats(rng, (4, 3, 3, 2)), floats(rng, 4)
    rows = floats(rng, (5, 3), scale=2.0)
    ones, zeros = np.ones(3), np.zeros(3)
    graphs = [("conv({0}, {1}, {2}, stride=2, padding=1)", [x, w, b],
               lambda x, w, b: conv2d(x, w, b, 2, 1)),
              ("MaxPool2d(3, stride=2)({0})", [x], lambda x: pool(x, 3, 2, np.max)),
              ("AvgPool2d(2, stride=1)({0})", [x], lambda x: pool(x, 2, 1, np.mean)),
              ("BatchNorm2d(3)({0})", [x], lambda x: batch_norm(x, ones, zeros)),
              ("BatchNorm1d(3)({0})", [rows], lambda x: batch_norm(x, ones, zeros))]
    for form, inputs, forward in graphs:
        what = form.format(*(f"float32 {np.shape(a)}" for a in inputs))
        cases.expect(form.format(*(cases.tensor(a) for a in inputs)),
                     forward(*(a.astype(np.float64) for a in inputs)), what)
        add_graph(cases, rng, form, inputs, forward, numeric_gradients(forward), what)
    cases.check(student, dtype=np.float32, rtol=1e-4, atol=1e-4)
    # Means 300, -200, 50 and spread 0.1: float32 rounding of the mean alone puts the right
    # answer up to ~1.5e-3 off, E[x^2] - E[x]^2 at least ~1e-2 (at means 30, -20, 5 the two
    # overlapped and the reference failed about one draw in 200).
    offset = (x * np.float32(0.1) + np.float32([300.0, -200.0, 50.0])[:, None, None]).astype(
        np.float32)
    large_means = Cases(IMPORT)
    large_means.expect(f"BatchNorm2d(3)({large_means.tensor(offset)})",
                       batch_norm(offset.astype(np.float64), ones, zeros),
                       "BatchNorm2d(3) of float32 channels with means 300, -200, 50 and spread "
                       "0.1 (E[x^2] - E[x]^2 cancels in float32: subtract the mean first)")
    large_means.check(student, dtype=np.float32, rtol=1e-4, atol=4e-3)
