"""Properties of the engine over arbitrary outcomes and figures of the fixture suite."""
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.rubric import grade
from tests.rubric.made_up_module import CHECK_IDS, RUBRIC, results

figure = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True),
                   st.floats(min_value=0, max_value=500))
one_check = st.fixed_dictionaries({
    "outcome": st.sampled_from(["passed", "failed", "error", "timeout"]),
    "visibility": st.sampled_from(["public", "hidden"]),
    "figures": st.fixed_dictionaries({}, optional={"ratio_to_reference": figure,
                                                   "peak_mb": figure}),
})
suite_run = st.lists(st.tuples(st.sampled_from(CHECK_IDS), one_check), unique_by=lambda t: t[0])


def document(run):
    return results([{"id": check_id, **fields} for check_id, fields in run])


@settings(max_examples=200, deadline=None)
@given(suite_run)
def test_points_stay_within_zero_and_max(run):
    graded = grade(RUBRIC, document(run), CHECK_IDS)
    assert 0 <= graded.points <= graded.max_points == RUBRIC.rubric.max_points
    assert all(0 <= c.points <= c.max_points for c in graded.checks)
    view = graded.for_student(after_deadline=False)
    assert 0 <= view.points <= view.max_points <= graded.max_points


@settings(max_examples=100, deadline=None)
@given(suite_run)
def test_same_rubric_and_results_give_the_same_grade(run):
    assert grade(RUBRIC, document(run), CHECK_IDS) == grade(RUBRIC, document(run), CHECK_IDS)


@settings(max_examples=100, deadline=None)
@given(suite_run, st.sampled_from(CHECK_IDS))
def test_failing_one_more_check_never_raises_the_grade(run, check_id):
    worse = [(i, {**fields, "outcome": "failed"} if i == check_id else fields)
             for i, fields in run]
    assert grade(RUBRIC, document(worse), CHECK_IDS).points <= \
        grade(RUBRIC, document(run), CHECK_IDS).points
