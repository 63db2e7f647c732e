"""The rubric files shipped in rubrics/: valid, named by the demo course, sensible limits."""
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograder.course.course_file import load_course
from autograder.rubric import load_rubric
from autograder.rubric.cli import rubric
from autograder.rubric.matching import assign
from autograder.rubric.suites import suite_check_ids

RUBRICS = Path(__file__).resolve().parents[2] / "rubrics"
COURSE = load_course(RUBRICS / "course.yaml")


def test_course_and_every_rubric_it_names_pass_rubric_check():
    result = CliRunner().invoke(rubric, ["check", "--course", str(RUBRICS / "course.yaml")])
    assert result.exit_code == 0, result.output
    assert result.output.count(": ok, ") == 21


@pytest.mark.parametrize("assignment", COURSE.assignments, ids=lambda a: a.id)
def test_rubric_limits_fit_the_machine_and_checks_stay_in_their_area(assignment):
    loaded = load_rubric(RUBRICS / assignment.rubric)
    limits = loaded.rubric.limits(COURSE.sandbox)
    assert limits.cpus <= 2 and limits.memory_mb <= 4096 and limits.pids == COURSE.sandbox.pids
    area = assignment.id.split("_", 1)[-1]
    assert all(item.match.startswith(f"{area}.") for item in loaded.rubric.checks)
    if loaded.rubric.training:
        assert loaded.rubric.training.budget_s < limits.wall_s


def test_cifar10_full_marks_at_75_percent_within_30_minutes_on_2_cpus():
    cifar = load_rubric(RUBRICS / "cifar10.yaml").rubric
    accuracy = cifar.checks[0].figures["test_accuracy"]
    assert (accuracy.credit(0.75), accuracy.credit(0.5), accuracy.credit(0.1)) == (1.0, 0.5, 0.0)
    assert cifar.training.budget_s == 30 * 60 and cifar.sandbox.cpus == 2
    assert cifar.training.early_stop.on_nonfinite_loss and cifar.training.early_stop.patience_epochs


@pytest.mark.parametrize("assignment", COURSE.assignments, ids=lambda a: a.id)
def test_rubric_fits_its_suite(assignment):
    check_ids = suite_check_ids(assignment.id)
    if check_ids is None:
        pytest.skip(f"no checkpoint suite for {assignment.id} yet")
    loaded = load_rubric(RUBRICS / assignment.rubric)
    allocation = assign(loaded.rubric, check_ids)
    assert allocation.unscored == (), "every check of the suite should earn points"
