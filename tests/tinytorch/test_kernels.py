"""Module 16: the three ways of each kernel agree with each other and with hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinytorch import Tensor
from tinytorch.core.spatial import conv_output_size
from tinytorch.perf.kernels import (
    conv2d_im2col,
    conv2d_loops,
    conv2d_strided,
    matmul_blocked,
    matmul_loops,
    matmul_numpy,
    softmax_fused,
    softmax_loops,
    softmax_unfused,
    time_kernel,
)

small = st.integers(min_value=1, max_value=6)


def _normal(seed: int, *shape: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape)


@settings(max_examples=40, deadline=None)
@given(m=small, k=small, n=small, tile=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_matmul_three_ways_agree(m, k, n, tile, seed):
    a, b = _normal(seed, m, k), _normal(seed + 1, k, n)
    reference = matmul_numpy(a, b)
    np.testing.assert_allclose(matmul_loops(a, b), reference, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(matmul_blocked(a, b, tile=tile), reference, rtol=1e-12, atol=1e-12)


def test_matmul_hand_computed():
    a = [[1, 2], [3, 4]]
    b = [[5, 6], [7, 8]]
    expected = [[19, 22], [43, 50]]
    for kernel in (matmul_loops, matmul_numpy, matmul_blocked):
        np.testing.assert_array_equal(kernel(a, b), expected)
        np.testing.assert_array_equal(kernel(Tensor(a), Tensor(b)), expected)


def test_matmul_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(2, 3\)"):
        matmul_blocked(np.ones((2, 3)), np.ones((2, 3)))


@st.composite
def conv_case(draw):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = draw(st.integers(0, 2))
    stride = draw(st.integers(1, 3))
    h = draw(st.integers(max(1, kh - 2 * padding), 6))
    w = draw(st.integers(max(1, kw - 2 * padding), 6))
    return dict(
        n=draw(st.integers(1, 2)), c=draw(st.integers(1, 3)), f=draw(st.integers(1, 3)),
        h=h, w=w, kh=kh, kw=kw, stride=stride, padding=padding,
        bias=draw(st.booleans()), seed=draw(st.integers(0, 2**16)),
    )  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(case=conv_case())
def test_conv2d_three_ways_agree(case):
    x = _normal(case["seed"], case["n"], case["c"], case["h"], case["w"])
    weight = _normal(case["seed"] + 1, case["f"], case["c"], case["kh"], case["kw"])
    bias = _normal(case["seed"] + 2, case["f"]) if case["bias"] else None
    stride, padding = case["stride"], case["padding"]
    reference = conv2d_loops(x, weight, bias, stride=stride, padding=padding)
    expected_shape = (
        case["n"], case["f"],
        conv_output_size(case["h"], case["kh"], stride, padding),
        conv_output_size(case["w"], case["kw"], stride, padding),
    )  # fmt: skip
    assert reference.shape == expected_shape
    for kernel in (conv2d_im2col, conv2d_strided):
        np.testing.assert_allclose(kernel(x, weight, bias, stride=stride, padding=padding), reference, rtol=1e-10, atol=1e-12)


def test_conv2d_hand_computed():
    """A 2x2 all-ones kernel sums each window; padding 1 adds zeros around the border."""
    x = np.arange(9.0).reshape(1, 1, 3, 3)  # [[0 1 2] [3 4 5] [6 7 8]]
    weight = np.ones((1, 1, 2, 2))
    expected_valid = [[[[8, 12], [20, 24]]]]
    expected_padded_stride2 = [[[[0, 3], [9, 24]]]]  # windows at (-1,-1), (-1,1), (1,-1), (1,1)
    for kernel in (conv2d_loops, conv2d_im2col, conv2d_strided):
        np.testing.assert_array_equal(kernel(x, weight), expected_valid)
        np.testing.assert_array_equal(kernel(x, weight, stride=2, padding=1), expected_padded_stride2)
        np.testing.assert_array_equal(kernel(x, weight, bias=np.array([1.0])), np.add(expected_valid, 1))


@pytest.mark.parametrize(
    "x_shape, w_shape, kwargs, message",
    [
        ((1, 2, 4, 4), (1, 3, 2, 2), {}, "channel mismatch"),
        ((1, 1, 2, 2), (1, 1, 3, 3), {}, "does not fit"),
        ((1, 1, 4, 4), (1, 1, 2, 2), {"stride": 0}, "stride >= 1"),
        ((1, 4, 4), (1, 1, 2, 2), {}, r"\(N, C, H, W\)"),
    ],
)
def test_conv2d_rejects_bad_geometry(x_shape, w_shape, kwargs, message):
    with pytest.raises(ValueError, match=message):
        conv2d_im2col(np.ones(x_shape), np.ones(w_shape), **kwargs)


@settings(max_examples=40, deadline=None)
@given(
    shape=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    scale=st.sampled_from([1.0, 50.0, 1000.0]),
    seed=st.integers(0, 2**16),
)
def test_softmax_three_ways_agree_and_stay_finite(shape, scale, seed):
    x = _normal(seed, *shape) * scale  # large logits: a naive exp would overflow
    reference = softmax_unfused(x)
    assert np.all(np.isfinite(reference))
    np.testing.assert_allclose(reference.sum(axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(softmax_loops(x), reference, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(softmax_fused(x), reference, rtol=1e-12, atol=0)


def test_softmax_hand_computed_and_writes_into_out():
    x = np.log(np.array([[1.0, 3.0], [2.0, 2.0]], dtype=np.float32))
    expected = np.array([[0.25, 0.75], [0.5, 0.5]], dtype=np.float32)
    np.testing.assert_allclose(softmax_loops(x), expected, rtol=1e-6)
    np.testing.assert_allclose(softmax_unfused(x), expected, rtol=1e-6)
    buffer = np.empty_like(x)
    result = softmax_fused(x, out=buffer)
    assert result is buffer
    np.testing.assert_allclose(buffer, expected, rtol=1e-6)


def test_softmax_fused_rejects_wrong_out_buffer():
    with pytest.raises(ValueError, match="out must have shape"):
        softmax_fused(np.ones((2, 3)), out=np.empty((3, 2)))


def test_time_kernel_calls_warmup_plus_repeats_and_returns_seconds():
    calls = []
    seconds = time_kernel(calls.append, 1, repeats=3, warmup=2)
    assert len(calls) == 5
    assert 0 <= seconds < 1


def test_time_kernel_rejects_zero_repeats():
    with pytest.raises(ValueError, match="repeats >= 1"):
        time_kernel(print, repeats=0)
