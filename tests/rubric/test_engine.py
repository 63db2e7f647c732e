"""The engine's rules on a small fixture suite; properties in test_engine_properties.py."""
import pytest

from autograder.rubric import NotGradable, RubricMismatch, grade, parse_rubric
from tests.rubric.made_up_module import CHECK_IDS, RUBRIC, RUBRIC_TEXT, all_passed, check, results


def by_id(graded):
    return {c.id: c for c in graded.checks}


def test_everything_passed_earns_full_marks():
    graded = grade(RUBRIC, all_passed(), CHECK_IDS)
    assert graded.points == graded.max_points == 13
    assert graded.gated_by == () and graded.unscored == ()


def test_a_failed_check_loses_its_share_and_keeps_its_message():
    graded = grade(RUBRIC, all_passed(**{"tensor.add.broadcast": check(
        "tensor.add.broadcast", "failed", "shape (2,3)+(3,) gave (2,2)")}), CHECK_IDS)
    assert graded.points == 11
    assert by_id(graded)["tensor.add.broadcast"].message == "shape (2,3)+(3,) gave (2,2)"


@pytest.mark.parametrize("outcome", ["timeout", "error"])
def test_timeout_and_error_count_as_failed_with_message(outcome):
    graded = grade(RUBRIC, all_passed(**{"tensor.add.same_shape": check(
        "tensor.add.same_shape", outcome, "took over 10 s")}), CHECK_IDS)
    score = by_id(graded)["tensor.add.same_shape"]
    assert (score.points, score.outcome, score.message) == (0, outcome, "took over 10 s")
    assert graded.points == 11


def test_failed_required_check_zeroes_the_rest():
    graded = grade(RUBRIC, all_passed(**{"tensor.create.ones": check(
        "tensor.create.ones", "failed", "wrong")}), CHECK_IDS)
    assert graded.gated_by == ("tensor.create.ones",)
    assert graded.points == 1  # only the other required check keeps its share
    assert "required" in by_id(graded)["tensor.add.broadcast"].message


def test_performance_ratio_is_linear_between_full_and_zero():
    def speed_points(ratio):
        graded = grade(RUBRIC, all_passed(**{"tensor.matmul.speed": check(
            "tensor.matmul.speed", ratio_to_reference=ratio)}), CHECK_IDS)
        return by_id(graded)["tensor.matmul.speed"].points

    assert speed_points(1.5) == 3
    assert speed_points(2.25) == pytest.approx(1.5)
    assert speed_points(3.5) == 0


def test_missing_figure_earns_nothing_and_says_why():
    graded = grade(RUBRIC, all_passed(**{"tensor.matmul.memory": check(
        "tensor.matmul.memory")}), CHECK_IDS)
    score = by_id(graded)["tensor.matmul.memory"]
    assert score.points == 0 and score.message == "peak_mb was not measured"


def test_all_or_nothing_group():
    graded = grade(RUBRIC, results([c for c in all_passed()["checks"]
                                    if c["id"] != "tensor.matmul.values"]), CHECK_IDS)
    values = by_id(graded)["tensor.matmul.values"]
    assert (values.outcome, values.points) == ("missing", 0)
    assert by_id(graded)["tensor.repr.hidden_case"].points == 1
    assert graded.points == 11  # the whole 2-point group is lost, not just its half


def test_infrastructure_error_is_not_gradable_never_zero():
    with pytest.raises(NotGradable, match="docker daemon not reachable"):
        grade(RUBRIC, results([], infrastructure_error="docker daemon not reachable"), CHECK_IDS)


def test_malformed_results_are_not_gradable():
    with pytest.raises(NotGradable, match="malformed"):
        grade(RUBRIC, {"module": "02_tensor", "checks": [{"id": "x", "outcome": "maybe"}]})


def test_pattern_matching_no_check_is_an_error_with_its_line():
    loaded = parse_rubric(RUBRIC_TEXT.replace("tensor.add.*", "tensor.sub.*"), "r.yaml")
    with pytest.raises(RubricMismatch) as caught:
        grade(loaded, all_passed(), CHECK_IDS)
    located = caught.value.located(loaded)
    assert (located.line, located.field) == (7, "checks[1].match")
    assert "matches no check" in located.message


def test_shadowed_item_is_an_error():
    text = RUBRIC_TEXT.replace("  - match: tensor.repr.*", "  - match: tensor.add.broadcast")
    with pytest.raises(RubricMismatch, match="only matches checks earlier items score"):
        grade(parse_rubric(text), all_passed(), CHECK_IDS)


def test_results_for_another_module_are_refused():
    with pytest.raises(RubricMismatch, match="not 02_tensor"):
        grade(RUBRIC, results([], module="03_activations"), CHECK_IDS)


def test_student_view_hides_hidden_and_after_deadline_checks():
    graded = grade(RUBRIC, all_passed(**{"tensor.add.broadcast": check(
        "tensor.add.broadcast", visibility="hidden")}), CHECK_IDS)
    before = graded.for_student(after_deadline=False)
    after = graded.for_student(after_deadline=True)
    assert {c.id for c in before.checks} == set(CHECK_IDS) - {"tensor.add.broadcast",
                                                               "tensor.repr.hidden_case"}
    assert before.max_points == 10 and after.max_points == 11
    assert graded.max_points == 13


def test_version_changes_with_the_text_even_if_declared_version_does_not():
    edited = parse_rubric(RUBRIC_TEXT.replace("points: 4", "points: 5"))
    assert RUBRIC.version.startswith("3+") and edited.version.startswith("3+")
    assert edited.version != RUBRIC.version
    assert parse_rubric(RUBRIC_TEXT).version == RUBRIC.version


def test_unscored_checks_are_reported():
    graded = grade(RUBRIC, all_passed(), [*CHECK_IDS, "tensor.extra.thing"])
    assert graded.unscored == ("tensor.extra.thing",)


def test_early_stop_rule_is_read_with_its_defaults():
    rule = parse_rubric(RUBRIC_TEXT + "training:\n  budget_s: 1200\n  early_stop:\n"
                        "    patience_epochs: 2\n").rubric.training.early_stop
    assert (rule.on_nonfinite_loss, rule.patience_epochs, rule.min_delta) == (True, 2, 0.0)


@pytest.mark.parametrize("value", [[1.0, 1.2], float("nan"), True, "fast"])
def test_a_figure_that_is_not_a_finite_number_earns_nothing(value):
    graded = grade(RUBRIC, all_passed(**{"tensor.matmul.speed": check(
        "tensor.matmul.speed", ratio_to_reference=value, curve=[3.0, 2.0])}), CHECK_IDS)
    score = by_id(graded)["tensor.matmul.speed"]
    assert score.points == 0 and "is not a finite number" in score.message
