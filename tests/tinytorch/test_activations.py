"""Module 03: activation values, numerical stability at extreme inputs, and gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import finite_arrays
from tests.tinytorch.gradcheck import assert_gradients_match, random_tensor
from tinytorch import GELU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh, Tensor

EXTREME = np.array([-1000.0, -88.0, -1.0, 0.0, 1.0, 88.0, 1000.0], dtype=np.float32)


def test_relu_zeroes_negatives():
    np.testing.assert_array_equal(ReLU()(Tensor([-2.0, 0.0, 3.0])).data, [0, 0, 3])


def test_sigmoid_is_exact_and_finite_at_extremes():
    out = Sigmoid()(Tensor(EXTREME)).data
    assert np.all(np.isfinite(out))
    with np.errstate(over="ignore"):     # the float64 reference itself overflows to 1/inf = 0
        expected = 1 / (1 + np.exp(-EXTREME.astype(np.float64)))
    np.testing.assert_allclose(out, expected, atol=1e-7)
    assert out[0] == 0.0 and out[-1] == 1.0 and out[3] == 0.5


def test_tanh_matches_numpy():
    np.testing.assert_allclose(Tanh()(Tensor(EXTREME)).data, np.tanh(EXTREME))


def test_gelu_is_close_to_the_exact_erf_form():
    x = np.linspace(-5, 5, 41)
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x])
    np.testing.assert_allclose(GELU()(Tensor(x, dtype=np.float64)).data, exact, atol=1e-3)
    assert np.all(np.isfinite(GELU()(Tensor(EXTREME)).data))


@pytest.mark.parametrize("dim", [-1, 0])
def test_softmax_rows_are_distributions_even_for_huge_logits(dim):
    x = np.array([[1000.0, 1001.0, 999.0], [-1000.0, 0.0, 1000.0]], dtype=np.float32)
    out = Softmax(dim=dim)(Tensor(x)).data
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out.sum(axis=dim), 1.0, rtol=1e-6)
    shifted = np.exp(x - x.max(axis=dim, keepdims=True))
    np.testing.assert_allclose(out, shifted / shifted.sum(axis=dim, keepdims=True), rtol=1e-6)


def test_softmax_of_a_fully_masked_row_is_zero_not_nan():
    out = Softmax()(Tensor([[-np.inf, -np.inf], [0.0, -np.inf]])).data
    np.testing.assert_array_equal(out, [[0, 0], [1, 0]])


def test_log_softmax_is_finite_where_softmax_underflows():
    x = Tensor([[0.0, -200.0]])
    out = LogSoftmax()(x).data
    np.testing.assert_allclose(out, [[0.0, -200.0]], atol=1e-5)
    assert Softmax()(x).data[0, 1] == 0.0  # the probability underflows, its log stays exact


ACTIVATIONS = {
    "relu": ReLU(), "sigmoid": Sigmoid(), "tanh": Tanh(), "gelu": GELU(),
    "softmax_last": Softmax(dim=-1), "softmax_first": Softmax(dim=0),
    "log_softmax_last": LogSoftmax(dim=-1), "log_softmax_first": LogSoftmax(dim=0),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_gradients(name):
    rng = np.random.default_rng(7)
    x = random_tensor(rng, 4, 5, scale=2.0)
    # a random weighting: sum(softmax) is constant, so an unweighted check would prove nothing
    weight = Tensor(rng.normal(size=(4, 5)), dtype=np.float64)
    assert_gradients_match(lambda x: ACTIVATIONS[name](x) * weight, x)


def test_float64_inputs_stay_float64():
    x = Tensor([0.5], dtype=np.float64)
    for activation in ACTIVATIONS.values():
        assert activation(x).dtype == np.float64, activation


@settings(max_examples=50, deadline=None)
@given(finite_arrays((3, 5), low=-50, high=50), st.floats(-500, 500))
def test_softmax_is_a_distribution_unchanged_by_a_shift(x, shift):
    out = Softmax()(Tensor(x, dtype=np.float64)).data
    np.testing.assert_allclose(out.sum(axis=-1), 1.0)
    np.testing.assert_allclose(Softmax()(Tensor(x + shift, dtype=np.float64)).data, out, atol=1e-9)
    np.testing.assert_allclose(LogSoftmax()(Tensor(x, dtype=np.float64)).data, np.log(out), atol=1e-9)
