"""The plateau rule the milestone driver applies inside the sandbox (sandbox/milestone_driver.py)."""

import math

from sandbox.milestone_driver import plateau


def test_a_falling_loss_goes_on():
    assert plateau([2.0, 1.5], 2, 0.01) is None
    assert plateau([2.0, 1.5, 1.2, 1.0], 2, 0.01) is None


def test_a_loss_that_stopped_falling_by_min_delta_stops():
    reason = plateau([2.0, 1.5, 1.495, 1.6], 2, 0.01)
    assert reason == "the loss has not fallen below 1.5 - 0.01 in the last 2 epochs"
    assert plateau([2.0, 1.5, 1.489, 1.6], 2, 0.01) is None


def test_non_finite_losses_never_count_as_falling():
    assert plateau([2.0, math.nan, math.inf], 2, 0.0) is not None
    assert plateau([math.nan, math.nan, 1.0], 2, 0.0) is None     # no finite best yet


def test_no_patience_means_no_rule():
    assert plateau([1.0, 2.0, 3.0, 4.0], None) is None
    assert plateau([1.0, 2.0, 3.0, 4.0], 0) is None
