"""Course policy rules: deadlines, extensions, grace, penalty, counting rule, overrides."""
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.course.course_file import LatePolicy, parse_course
from autograder.policy import (Attempt, Override, apply_late_penalty, computed_grade,
                               effective_deadline, final_grade, lateness)

DEADLINE = datetime(2027, 1, 29, 23, 59, tzinfo=timezone.utc)
COURSE_TEXT = """\
slug: c
title: C
late_policy: {{per: day, penalty_percent: 10, grace_minutes: 15, floor_percent: 50}}
counts: {counts}
close_after_deadline: 7d
extensions:
  - {{student: ann, assignment: 02_tensor, extra: 2d}}
  - {{student: ann, until: 2027-01-30T12:00:00Z}}
excused:
  - {{student: cy, reason: medical}}
modules:
  - {{id: 02_tensor, title: Tensor, points: 20, deadline: 2027-01-29T23:59:00Z, rubric: r.yaml}}
"""


def course(counts="latest_with_penalty"):
    return parse_course(COURSE_TEXT.format(counts=counts))


def attempt(sid, after_deadline, points, max_points=100):
    return Attempt(sid, DEADLINE + after_deadline, points, max_points, "1+abc")


def test_extension_moves_the_deadline_latest_wins():
    config = course()
    tensor = config.assignment("02_tensor")
    assert effective_deadline(config, "ann", tensor) == DEADLINE + timedelta(days=2)
    assert effective_deadline(config, "bob", tensor) == DEADLINE


def test_grace_period_forgives_but_lateness_counts_from_the_deadline():
    policy = LatePolicy(grace_minutes=15)
    assert lateness(policy, DEADLINE, DEADLINE + timedelta(minutes=15)) == timedelta(0)
    assert lateness(policy, DEADLINE, DEADLINE + timedelta(minutes=16)) == timedelta(minutes=16)


def test_penalty_per_started_day_with_floor_and_cap():
    policy = LatePolicy(per="day", penalty_percent=10, floor_percent=50)
    assert apply_late_penalty(policy, 20, 20, timedelta(hours=1)) == 18
    assert apply_late_penalty(policy, 20, 20, timedelta(days=1, seconds=1)) == 16
    assert apply_late_penalty(policy, 20, 20, timedelta(days=9)) == 10      # floor: half of 20
    assert apply_late_penalty(policy, 6, 20, timedelta(days=9)) == 6        # not raised to it
    capped = LatePolicy(per="hour", penalty_percent=1, cap_percent=80)
    assert apply_late_penalty(capped, 20, 20, timedelta(hours=2)) == 16
    assert apply_late_penalty(capped, 20, 20, timedelta(0)) == 20


def test_latest_with_penalty_takes_the_last_attempt_before_closing():
    config = course()
    graded = computed_grade(config, "bob", config.assignment("02_tensor"), [
        attempt(1, -timedelta(days=1), 100), attempt(2, timedelta(hours=30), 90),
        attempt(3, timedelta(days=8), 100)])                    # after closing: ignored
    assert graded.submission_id == 2
    assert graded.points == pytest.approx(18 - 4)              # 90% of 20, two started days
    assert graded.penalty == pytest.approx(4) and graded.late_by == timedelta(hours=30)


def test_latest_before_deadline_ignores_late_work():
    config = course("latest_before_deadline")
    tensor = config.assignment("02_tensor")
    graded = computed_grade(config, "bob", tensor, [attempt(1, -timedelta(hours=1), 50),
                                                    attempt(2, timedelta(hours=1), 100)])
    assert (graded.submission_id, graded.points) == (1, 10)
    only_late = computed_grade(config, "bob", tensor, [attempt(2, timedelta(hours=1), 100)])
    assert only_late.points is None and "before the deadline" in only_late.note


def test_best_compares_grades_after_penalty():
    config = course("best")
    graded = computed_grade(config, "bob", config.assignment("02_tensor"), [
        attempt(1, -timedelta(days=1), 80), attempt(2, timedelta(hours=1), 85)])
    assert (graded.submission_id, graded.points) == (1, 16)    # 85% late is 15 after penalty


def test_no_submission_is_no_grade_not_zero():
    config = course()
    graded = computed_grade(config, "bob", config.assignment("02_tensor"), [])
    assert graded.points is None and graded.max_points == 20


def test_newest_override_wins_and_keeps_the_computed_grade():
    config = course()
    overrides = [Override(5, "ta1", DEADLINE, "first look"),
                 Override(19, "ta2", DEADLINE + timedelta(days=1), "regraded by hand")]
    graded = final_grade(config, "bob", config.assignment("02_tensor"),
                         [attempt(1, timedelta(0), 50)], overrides)
    assert (graded.points, graded.computed_points) == (19, 10)
    assert graded.override.by == "ta2" and "regraded by hand" in graded.note


policies = st.builds(LatePolicy, per=st.sampled_from(["day", "hour"]),
                     penalty_percent=st.floats(0, 100), grace_minutes=st.floats(0, 600),
                     floor_percent=st.floats(0, 100),
                     cap_percent=st.none() | st.floats(0, 100))
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60))


@settings(max_examples=300, deadline=None)
@given(policies, st.floats(0, 1), durations, durations)
def test_penalty_is_monotone_in_lateness_and_stays_in_range(policy, fraction, a, b):
    earlier, later = sorted((a, b))
    points = fraction * 20
    early = apply_late_penalty(policy, points, 20, lateness(policy, DEADLINE, DEADLINE + earlier))
    late = apply_late_penalty(policy, points, 20, lateness(policy, DEADLINE, DEADLINE + later))
    assert 0 <= late <= early <= points


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.timedeltas(min_value=-timedelta(days=5),
                                        max_value=timedelta(days=10)), st.floats(0, 100)),
                max_size=5),
       st.floats(0, 30), st.sampled_from(["latest_before_deadline", "best",
                                          "latest_with_penalty"]))
def test_override_always_wins_and_grades_stay_in_range(runs, override_points, counts):
    config = course(counts)
    attempts = [attempt(i, when, points) for i, (when, points) in enumerate(runs)]
    tensor = config.assignment("02_tensor")
    computed = computed_grade(config, "bob", tensor, attempts)
    assert computed.points is None or 0 <= computed.points <= 20
    overridden = final_grade(config, "bob", tensor, attempts,
                             [Override(override_points, "ta", DEADLINE, "why")])
    assert overridden.points == override_points


def test_attempt_refuses_naive_times_and_empty_maximum():
    with pytest.raises(ValueError, match="submission 7: submitted_at has no timezone"):
        Attempt(7, datetime(2027, 1, 1), 1, 10)
    with pytest.raises(ValueError, match="max_points must be > 0"):
        Attempt(7, DEADLINE, 0, 0)


def test_excused_student_has_no_grade_but_an_override_still_wins():
    config = course()
    tensor = config.assignment("02_tensor")
    excused = final_grade(config, "cy", tensor, [attempt(1, timedelta(0), 50)], [])
    assert (excused.points, excused.excused, excused.computed_points) == (None, True, 10)
    assert excused.note == "excused: medical"
    overridden = final_grade(config, "cy", tensor, [], [Override(12, "ta", DEADLINE, "did it")])
    assert (overridden.points, overridden.excused) == (12, False)
    assert final_grade(config, "bob", tensor, [], []).excused is False
