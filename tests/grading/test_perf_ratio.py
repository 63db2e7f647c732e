"""ratio_to_reference times only verified results on fresh inputs, and re-measures a high
ratio before it costs a student marks."""

import time

import numpy as np
import pytest

from harness.checkpoints.perf import Workload, checksum, ratio_to_reference

WORK = Workload("setup", lambda rng: {"x": rng.normal(size=3)}, "double(x)")


class ScriptedRunner:
    """Stands in for a runner in this unit test: ``timed_eval`` doubles the last input put
    (or answers ``answer`` when given) in the next scripted time."""

    def __init__(self, times, answer=None, put_s=0.0):
        self.times, self.answer, self.figures = list(times), answer, {}
        self.inputs, self.timed, self.put_s = [], 0, put_s

    def exec(self, code, timeout=None):
        return 0.0

    def put(self, name, value, timeout=None):
        time.sleep(self.put_s)
        self.inputs.append(value)

    def timed_eval(self, expr, timeout=None):
        """Answers the checksum of its value, as the runner does, and keeps the value."""
        self.timed += 1
        self.value = 2 * self.inputs[-1] if self.answer is None else self.answer
        return checksum(self.value), self.times.pop(0)

    def eval(self, expr, timeout=None):
        return self.value

    def figure(self, name, value):
        self.figures[name] = value


def ratio(student, reference, **options):
    return ratio_to_reference(student, reference, np.random.default_rng(0), WORK, **options)


def test_a_noisy_first_round_is_measured_again_and_the_best_times_count():
    student = ScriptedRunner([9.0, 9.0, 1.1, 1.0])      # load spike during round one
    reference = ScriptedRunner([1.0, 1.0, 1.0, 1.0])
    assert ratio(student, reference, repeat=2) == pytest.approx(1.0, abs=1e-3)
    assert student.figures["ratio_to_reference"] == 1.0


def test_a_persistently_slow_student_stays_slow_after_every_round():
    student = ScriptedRunner([6.0] * 6)
    reference = ScriptedRunner([1.0] * 6)
    assert ratio(student, reference, repeat=2) == pytest.approx(6.0, abs=1e-3)
    assert student.timed == 6                            # three rounds of two


def test_confirm_above_none_measures_one_round_only():
    student = ScriptedRunner([6.0, 6.0])
    reference = ScriptedRunner([1.0, 1.0])
    assert ratio(student, reference, repeat=2, confirm_above=None) == pytest.approx(6.0,
                                                                                   abs=1e-3)


def test_time_taken_while_the_inputs_are_handed_over_counts_as_the_students():
    """A runner can compute the result while its inputs arrive and answer the timed request
    at once: the hand-over is timed too, and what it takes beyond the reference's counts."""
    student = ScriptedRunner([0.01, 0.01], put_s=0.2)    # the work, done while receiving x
    reference = ScriptedRunner([0.1, 0.1])
    assert ratio(student, reference, repeat=2, confirm_above=None) == pytest.approx(
        2.1, abs=0.2)


def test_every_repetition_gets_inputs_it_has_never_seen():
    student, reference = ScriptedRunner([1.0] * 4), ScriptedRunner([1.0] * 4)
    ratio(student, reference, repeat=4, confirm_above=None)
    assert len({x.tobytes() for x in student.inputs}) == 4
    assert [x.tobytes() for x in student.inputs] == [x.tobytes() for x in reference.inputs]


def test_an_instant_reply_that_is_not_the_result_fails_before_its_time_counts():
    cached = ScriptedRunner([1e-6] * 5, answer=np.zeros(3))   # e.g. replayed from a cache
    with pytest.raises(AssertionError, match="on fresh inputs"):
        ratio(cached, ScriptedRunner([1.0] * 5))
    assert "ratio_to_reference" not in cached.figures
