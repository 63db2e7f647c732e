"""Module 05: loss values against hand computations, stability, input errors, and gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.tinytorch.gradcheck import assert_gradients_match, random_tensor
from tinytorch import BinaryCrossEntropyLoss, CrossEntropyLoss, MSELoss, Tensor


def test_mse_value():
    loss = MSELoss()(Tensor([1.0, 2.0, 4.0]), np.array([1.0, 0.0, 1.0]))
    assert loss.item() == pytest.approx((0 + 4 + 9) / 3)


def test_cross_entropy_value_by_hand():
    logits = Tensor([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    loss = CrossEntropyLoss()(logits, np.array([2, 0]))
    first = -(3 - math.log(math.e + math.e**2 + math.e**3))
    second = math.log(3)
    assert loss.item() == pytest.approx((first + second) / 2, rel=1e-6)


def test_cross_entropy_with_label_smoothing_by_hand():
    logits = np.array([[2.0, 0.0]])
    log_p = logits - np.log(np.exp(logits).sum())
    smoothing = 0.2  # target distribution: 0.1 on each class, plus 0.8 on the true one
    expected = -(0.9 * log_p[0, 0] + 0.1 * log_p[0, 1])
    assert CrossEntropyLoss(label_smoothing=smoothing)(Tensor(logits), [0]).item() == pytest.approx(expected, rel=1e-6)


def test_cross_entropy_is_finite_for_huge_logits():
    logits = Tensor([[1e4, -1e4, 0.0]], requires_grad=True)
    loss = CrossEntropyLoss()(logits, [1])
    assert loss.item() == pytest.approx(2e4, rel=1e-6)
    loss.backward()
    assert np.all(np.isfinite(logits.grad))


def test_bce_value_and_clipping_at_zero_and_one():
    p = Tensor([0.9, 0.2])
    y = np.array([1.0, 0.0])
    assert BinaryCrossEntropyLoss()(p, y).item() == pytest.approx(-(math.log(0.9) + math.log(0.8)) / 2, rel=1e-6)
    certain_and_wrong = BinaryCrossEntropyLoss()(Tensor([0.0, 1.0]), y).item()
    assert math.isfinite(certain_and_wrong) and certain_and_wrong > 10


@pytest.mark.parametrize("make_call, message", [
    (lambda: MSELoss()(Tensor(np.ones(3)), np.ones(4)), "shape"),
    (lambda: CrossEntropyLoss()(Tensor(np.ones((2, 3))), [0, 3]), r"\[0, 3\)"),
    (lambda: CrossEntropyLoss()(Tensor(np.ones((2, 3))), [0, -1]), r"\[0, 3\)"),
    (lambda: CrossEntropyLoss()(Tensor(np.ones((2, 3))), [0, 1, 2]), "labels"),
    (lambda: CrossEntropyLoss(label_smoothing=1.0), "label_smoothing"),
    (lambda: BinaryCrossEntropyLoss()(Tensor(np.full(2, 0.5)), np.ones(3)), "shape"),
])
def test_bad_inputs_get_a_clear_error(make_call, message):
    with pytest.raises(ValueError, match=message):
        make_call()


def test_mse_gradient():
    rng = np.random.default_rng(3)
    target = rng.normal(size=(4, 3))
    assert_gradients_match(lambda p: MSELoss()(p, target), random_tensor(rng, 4, 3))


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_gradient(smoothing):
    rng = np.random.default_rng(4)
    labels = np.array([0, 2, 1, 2, 4])
    assert_gradients_match(lambda z: CrossEntropyLoss(smoothing)(z, labels), random_tensor(rng, 5, 5, scale=3.0))


def test_bce_gradient():
    rng = np.random.default_rng(5)
    p = Tensor(rng.uniform(0.05, 0.95, size=(6, 1)), requires_grad=True, dtype=np.float64)
    y = rng.integers(0, 2, size=(6, 1)).astype(np.float64)
    assert_gradients_match(lambda p: BinaryCrossEntropyLoss()(p, y), p)


def test_losses_keep_float64():
    assert MSELoss()(Tensor([1.0], dtype=np.float64), [0.0]).dtype == np.float64
    assert CrossEntropyLoss()(Tensor([[1.0, 2.0]], dtype=np.float64), [0]).dtype == np.float64
    assert BinaryCrossEntropyLoss()(Tensor([0.3], dtype=np.float64), [0.0]).dtype == np.float64
