"""The seeded case generators and ``Cases`` of harness/checkpoints/inputs.py."""

import numpy as np
import pytest

from harness.checkpoints.inputs import (Cases, broadcast_pairs, extreme_rows, fixed, matmul_pairs,
                                        reduction_cases)

GENERATORS = (broadcast_pairs, matmul_pairs, reduction_cases)


@pytest.mark.parametrize("generate", GENERATORS)
def test_a_fixed_seed_gives_the_same_cases_every_run_and_another_seed_others(generate):
    assert generate(fixed(5)) == generate(fixed(5))
    assert any(generate(fixed(seed)) != generate(fixed(5)) for seed in range(6, 10))


def test_broadcast_pairs_broadcast_both_ways_on_leading_trailing_and_size_1_axes():
    pairs = broadcast_pairs(fixed(1))
    assert {(b, a) for a, b in pairs} == set(pairs)
    for left, right in pairs:
        np.broadcast_shapes(left, right)
    assert any(len(a) < len(b) for a, b in pairs) and any(1 in a and len(a) == len(b)
                                                         for a, b in pairs)


def test_matmul_pairs_cover_vectors_and_batches_on_either_or_both_sides():
    pairs = matmul_pairs(fixed(2))
    for left, right in pairs:
        np.matmul(np.ones(left), np.ones(right))
    kinds = {(min(len(a), 3), min(len(b), 3)) for a, b in pairs}
    assert {(1, 2), (2, 1), (3, 2), (2, 3), (3, 3), (3, 1), (1, 3)} <= kinds


def test_extreme_rows_sit_near_very_different_levels():
    rows = extreme_rows(fixed(3), 40, 5)
    assert rows.dtype == np.float32 and np.ptp(rows.max(axis=1).astype(np.float64)) > 1000


class Replying:
    """A runner that answers every eval with ``reply`` (a unit-test stand-in for a student)."""

    def __init__(self, reply):
        self.reply = reply

    def exec(self, code):
        compile(code, "<runner>", "exec")

    def eval(self, expr):
        return self.reply


def two_cases():
    cases = Cases("from tinytorch.core.tensor import Tensor")
    name = cases.tensor(np.arange(3, dtype=np.float32))
    cases.expect(f"{name} * 2", np.arange(3) * 2, "doubling")
    cases.expect(f"{name} + 1", np.arange(3) + 1, "adding one")
    return cases


def test_cases_compare_every_result_here():
    two_cases().check(Replying([np.arange(3.0) * 2, np.arange(3.0) + 1]))
    with pytest.raises(AssertionError, match="adding one"):
        two_cases().check(Replying([np.arange(3.0) * 2, np.arange(3.0)]))


@pytest.mark.parametrize("reply", [[], [np.arange(3.0) * 2], "ok", None])
def test_a_short_or_foreign_reply_fails_instead_of_skipping_comparisons(reply):
    with pytest.raises(AssertionError, match="list of 2 values"):
        two_cases().check(Replying(reply))
