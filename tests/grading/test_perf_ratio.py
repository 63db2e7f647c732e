"""ratio_to_reference re-measures a high ratio before it costs a student marks."""

from harness.checkpoints.perf import ratio_to_reference


class ScriptedRunner:
    """Stands in for a runner in this unit test: exec returns the next scripted time."""

    def __init__(self, times):
        self.times, self.figures, self.calls = list(times), {}, 0

    def exec(self, code, timeout=None):
        self.calls += 1
        return self.times.pop(0) if code == "work" else 0.0

    def figure(self, name, value):
        self.figures[name] = value


def test_a_noisy_first_round_is_measured_again_and_the_best_times_count():
    student = ScriptedRunner([9.0, 9.0, 1.1, 1.0])      # load spike during round one
    reference = ScriptedRunner([1.0, 1.0, 1.0, 1.0])
    ratio = ratio_to_reference(student, reference, "setup", "work", repeat=2)
    assert ratio == 1.0
    assert student.figures["ratio_to_reference"] == 1.0


def test_a_persistently_slow_student_stays_slow_after_every_round():
    student = ScriptedRunner([6.0] * 6)
    reference = ScriptedRunner([1.0] * 6)
    assert ratio_to_reference(student, reference, "setup", "work", repeat=2) == 6.0
    assert student.calls == 1 + 6                        # setup, then three rounds of two


def test_confirm_above_none_measures_one_round_only():
    student = ScriptedRunner([6.0, 6.0])
    reference = ScriptedRunner([1.0, 1.0])
    assert ratio_to_reference(student, reference, "setup", "work", repeat=2, confirm_above=None) == 6.0
