"""Module 06: optimizer steps against values worked out by hand, schedules, and resumable state.

Every case uses one parameter p = 1.0 (float64) with gradient 0.5, then -1.0 for a second
step where it matters, and lr = 0.1; the arithmetic is in the comments.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinytorch import Linear, Tensor
from tinytorch.core.optimizers import SGD, Adam, AdamW, CosineAnnealingLR, LinearWarmup, StepLR, WarmupCosine


def run_steps(make_optimizer, grads, start=1.0) -> list[float]:
    """The parameter's value after each step, given one gradient per step."""
    p = Tensor([start], requires_grad=True, dtype=np.float64)
    optimizer = make_optimizer([p])
    values = []
    for g in grads:
        p.grad = np.array([g])
        optimizer.step()
        values.append(float(p.data[0]))
    return values


def test_sgd_plain():
    # p = 1 - 0.1 * 0.5
    assert run_steps(lambda ps: SGD(ps, lr=0.1), [0.5]) == pytest.approx([0.95])


def test_sgd_momentum():
    # v1 = 0.5 -> p = 0.95;  v2 = 0.9*0.5 + 0.5 = 0.95 -> p = 0.95 - 0.095 = 0.855
    assert run_steps(lambda ps: SGD(ps, lr=0.1, momentum=0.9), [0.5, 0.5]) == pytest.approx([0.95, 0.855])


def test_sgd_nesterov():
    # v1 = 0.5, step g + 0.9*v1 = 0.95 -> p = 0.905
    # v2 = 0.9*0.5 + 0.5 = 0.95, step 0.5 + 0.9*0.95 = 1.355 -> p = 0.905 - 0.1355 = 0.7695
    steps = run_steps(lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True), [0.5, 0.5])
    assert steps == pytest.approx([0.905, 0.7695])


def test_sgd_weight_decay():
    # g = 0.5 + 0.1*1 = 0.6 -> p = 0.94;  g = 0.5 + 0.1*0.94 = 0.594 -> p = 0.94 - 0.0594 = 0.8806
    assert run_steps(lambda ps: SGD(ps, lr=0.1, weight_decay=0.1), [0.5, 0.5]) == pytest.approx([0.94, 0.8806])


def test_adam_first_two_steps():
    # step 1: m = 0.05, v = 0.00025; m^ = 0.5, v^ = 0.25 -> p = 1 - 0.1 * 0.5/0.5 = 0.9
    # step 2 (g = -1): m = 0.045 - 0.1 = -0.055, v = 0.00024975 + 0.001 = 0.00124975
    #   m^ = -0.055/0.19 = -0.28947368, v^ = 0.00124975/0.001999 = 0.62518759, sqrt = 0.79068805
    #   p = 0.9 + 0.1 * 0.28947368/0.79068805 = 0.93661035
    steps = run_steps(lambda ps: Adam(ps, lr=0.1), [0.5, -1.0])
    assert steps == pytest.approx([0.9, 0.93661035], abs=1e-8)


def test_adamw_decays_before_the_adam_step():
    # step 1: p = 1 * (1 - 0.1*0.1) = 0.99, then -0.1 -> 0.89
    # step 2: p = 0.89 * 0.99 = 0.8811, then +0.03661035 (as in the Adam case) -> 0.91771035
    steps = run_steps(lambda ps: AdamW(ps, lr=0.1, weight_decay=0.1), [0.5, -1.0])
    assert steps == pytest.approx([0.89, 0.91771035], abs=1e-8)


def test_adam_weight_decay_is_l2_in_the_gradient_unlike_adamw():
    # Adam's L2 term only changes g (0.5 -> 0.6); the first normalised step is still lr.
    assert run_steps(lambda ps: Adam(ps, lr=0.1, weight_decay=0.1), [0.5]) == pytest.approx([0.9])
    assert run_steps(lambda ps: AdamW(ps, lr=0.1, weight_decay=0.1), [0.5]) == pytest.approx([0.89])


def test_updates_are_in_place_and_skip_parameters_without_gradients():
    a = Tensor([1.0], requires_grad=True)
    b = Tensor([1.0], requires_grad=True)
    array = a.data
    optimizer = Adam([a, b, a], lr=0.1)
    assert len(optimizer.params) == 2
    a.grad = np.array([1.0], dtype=np.float32)
    optimizer.step()
    assert a.data is array and a.data[0] == pytest.approx(0.9)
    assert b.data[0] == 1.0
    optimizer.zero_grad()
    assert a.grad is None


@pytest.mark.parametrize("make, message", [
    (lambda: SGD([], lr=0.1), "empty"),
    (lambda: SGD([Tensor([1.0])], lr=0.1), "do not require grad"),
    (lambda: SGD([Tensor([1.0], requires_grad=True)], lr=-1), "learning rate"),
    (lambda: SGD([Tensor([1.0], requires_grad=True)], lr=0.1, nesterov=True), "momentum > 0"),
    (lambda: Adam([Tensor([1.0], requires_grad=True)], betas=(0.9, 1.0)), "betas"),
])
def test_bad_settings_are_rejected(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("make", [
    lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    lambda ps: Adam(ps, lr=0.1),
    lambda ps: AdamW(ps, lr=0.1),
])
def test_state_dict_resumes_exactly(make):
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=(3, 2)).astype(np.float32) for _ in range(4)]
    straight = Linear(3, 2, rng=np.random.default_rng(1))
    optimizer = make([straight.weight])
    for g in grads:
        straight.weight.grad = g
        optimizer.step()

    resumed = Linear(3, 2, rng=np.random.default_rng(1))
    first = make([resumed.weight])
    for g in grads[:2]:
        resumed.weight.grad = g
        first.step()
    settings, arrays = first.state_dict()
    second = make([resumed.weight])
    second.load_state_dict(settings, {k: v.copy() for k, v in arrays.items()})
    for g in grads[2:]:
        resumed.weight.grad = g
        second.step()
    np.testing.assert_array_equal(resumed.weight.data, straight.weight.data)


def test_optimizer_state_that_does_not_fit_changes_nothing():
    p = Tensor(np.ones(3), requires_grad=True)
    optimizer = Adam([p], lr=0.1)
    with pytest.raises(ValueError, match="does not fit"):
        optimizer.load_state_dict({"lr": 0.5, "step_count": 7}, {"0.m": np.ones(4)})
    assert optimizer.lr == 0.1 and optimizer.step_count == 0 and optimizer.state == [{}]


# ------------------------------------------------------------------ schedules
def lr_sequence(make_scheduler, steps: int, base_lr: float = 1.0) -> list[float]:
    optimizer = SGD([Tensor([0.0], requires_grad=True)], lr=base_lr)
    scheduler = make_scheduler(optimizer)
    values = [optimizer.lr]
    for _ in range(steps):
        scheduler.step()
        values.append(optimizer.lr)
    return values


def test_step_lr():
    assert lr_sequence(lambda o: StepLR(o, step_size=2, gamma=0.5), 5) == pytest.approx([1, 1, 0.5, 0.5, 0.25, 0.25])


def test_cosine_annealing():
    # 0.5 * (1 + cos(pi * t / 4)) for t = 0..4, then flat at the minimum
    expected = [1, 0.8535534, 0.5, 0.1464466, 0, 0]
    assert lr_sequence(lambda o: CosineAnnealingLR(o, T_max=4), 5) == pytest.approx(expected, abs=1e-7)
    with_floor = lr_sequence(lambda o: CosineAnnealingLR(o, T_max=4, eta_min=0.2), 2)
    assert with_floor == pytest.approx([1, 0.2 + 0.8 * 0.8535534, 0.6], abs=1e-7)


def test_linear_warmup():
    assert lr_sequence(lambda o: LinearWarmup(o, warmup_steps=4), 5, base_lr=2.0) == pytest.approx([0.5, 1, 1.5, 2, 2, 2])


def test_warmup_then_cosine():
    # warmup 0.5, 1; then cosine over 4 steps from 1 down to 0 at step 6
    expected = [0.5, 1, 1, 0.8535534, 0.5, 0.1464466, 0, 0]
    assert lr_sequence(lambda o: WarmupCosine(o, warmup_steps=2, total_steps=6), 7) == pytest.approx(expected, abs=1e-7)


def test_scheduler_state_round_trip():
    optimizer = SGD([Tensor([0.0], requires_grad=True)], lr=1.0)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.5)
    scheduler.step()
    scheduler.step()
    other_optimizer = SGD([Tensor([0.0], requires_grad=True)], lr=1.0)
    other = StepLR(other_optimizer, step_size=1, gamma=0.5)
    other.load_state_dict(scheduler.state_dict())
    assert other_optimizer.lr == 0.25
    other.step()
    assert other_optimizer.lr == 0.125


@pytest.mark.parametrize("make", [
    lambda o: StepLR(o, step_size=0),
    lambda o: CosineAnnealingLR(o, T_max=0),
    lambda o: LinearWarmup(o, warmup_steps=0),
    lambda o: WarmupCosine(o, warmup_steps=5, total_steps=5),
])
def test_bad_schedule_settings_are_rejected(make):
    with pytest.raises(ValueError):
        make(SGD([Tensor([0.0], requires_grad=True)], lr=1.0))
