"""Each shipped rubric, on its real suite run by the local backend: reference 100%, starter 0.

Modules whose suite does not exist yet are skipped with that reason; each run takes seconds.
"""
from pathlib import Path

import pytest

from autograder.course.course_file import load_course
from autograder.rubric import grade, load_rubric
from autograder.rubric.suites import suite_check_ids
from autograder.starter import generate_starter
from harness.backends.local import LocalBackend
from harness.suite import run_suite

ROOT = Path(__file__).resolve().parents[2]
MODULES = [m.id for m in load_course(ROOT / "rubrics" / "course.yaml").modules]


@pytest.fixture(scope="module")
def starter(tmp_path_factory):
    return generate_starter(tmp_path_factory.mktemp("starter") / "repo")


def declared(module):
    check_ids = suite_check_ids(module)
    if check_ids is None:
        pytest.skip(f"no checkpoint suite for {module} yet")
    return check_ids


def graded(module, repo):
    check_ids = declared(module)
    results = run_suite(module, repo, LocalBackend())
    assert results["infrastructure_error"] is None, results["infrastructure_error"]
    return grade(load_rubric(ROOT / "rubrics" / f"{module}.yaml"), results, check_ids)


@pytest.mark.parametrize("module", MODULES)
def test_reference_scores_full_marks(module):
    result = graded(module, ROOT)
    lost = [(c.id, c.message) for c in result.checks if c.points < c.max_points]
    assert result.points == result.max_points, lost


@pytest.mark.parametrize("module", MODULES)
def test_starter_scores_zero(module, request):
    declared(module)   # skip before building the starter when there is nothing to run
    result = graded(module, request.getfixturevalue("starter"))
    assert result.points == 0, [(c.id, c.points) for c in result.checks if c.points]
