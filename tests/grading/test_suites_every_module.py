"""What every checkpoint suite must do, on real runners (local backend).

For each module with a suite: the reference scores 100%, records the performance figures listed
here and earns every rubric point; the starter, and a repo where only this module is still a
stub, fail every check with NotImplementedError yet get a result for each; modules 1..N from
the reference with N+1..18 still stubs score 100% (progressive gradability); and each seeded
bug, a small edit of the reference, is caught by the check named beside it.  A new suite gets
all of this by existing; module-specific tests live in the ``test_suites_*.py`` files.
"""

import pytest

from autograder.rubric import grade, load_rubric
from tests.grading.submission_tars import CHECKOUT, MODULE_IDS, progressive, tar_of
from deploy.seeded_bugs import SEEDED_BUGS, assert_caught
from tests.grading.suite_checks import (SuiteRuns, assert_every_check_fails_on_a_stub,
                                        checks_using_the_reference, not_passed, outcomes)
from harness.checkpoints.registry import declared_checks, modules_with_suites
from harness.suite import REFERENCE_ROOT, run_suite

MODULES = modules_with_suites()
RATIO = {"ratio_to_reference", "reference_s"}
MEMORY = {"memory_ratio", "peak_bytes"}
FIGURES = {   # the figures each module's performance checks record on the reference
    "02_tensor": {"tensor.matmul.vectorised": RATIO},
    "04_layers": {"layers.linear.vectorised": RATIO},
    "06_optimizers": {"optimizers.adam.vectorised": RATIO,
                      "optimizers.adam.memory": {"memory_ratio"}},
    "07_autograd": {"autograd.graph.deep": RATIO},
    "09_spatial": {"spatial.conv2d.speed": RATIO, "spatial.conv2d.memory": MEMORY},
    "11_tokenization": {"tokenization.bpe.speed": RATIO},
    "15_generation": {"generation.kv_cache.speed": RATIO | {"cache_speedup"}},
    "16_kernels": {**{f"kernels.{name}.speed": RATIO
                      for name in ("matmul_blocked", "conv2d_im2col", "conv2d_strided",
                                   "softmax_fused")},
                   "kernels.softmax_fused.memory": MEMORY},
}


@pytest.fixture(scope="session")
def graded(backend):
    return SuiteRuns(backend)


@pytest.mark.parametrize("module", MODULES)
def test_reference_scores_full_marks_with_public_and_hidden_checks(graded, reference_files,
                                                                   module):
    result = graded(module, reference_files)
    assert not_passed(result) == {}
    assert [c["id"] for c in result["checks"]] == [c.id for c in declared_checks(module)]
    assert {c["visibility"] for c in result["checks"]} == {"public", "hidden"}


@pytest.mark.parametrize("module", MODULES)
def test_reference_records_the_performance_figures(graded, reference_files, module):
    result = graded(module, reference_files)
    figures = {c["id"]: set(c["figures"]) for c in result["checks"] if c["figures"]}
    assert figures == FIGURES.get(module, {})


@pytest.mark.parametrize("module", MODULES)
def test_reference_earns_every_rubric_point(graded, reference_files, module):
    result = graded(module, reference_files)
    scored = grade(load_rubric(CHECKOUT / "rubrics" / f"{module}.yaml"), result,
                   [c.id for c in declared_checks(module)])
    assert scored.unscored == ()
    timed = {check for check, figures in FIGURES.get(module, {}).items()
             if "ratio_to_reference" in figures}   # time ratios wobble with the load
    assert {s.id for s in scored.checks if s.points < s.max_points and s.id not in timed} == set()
    assert all(s.points > 0 for s in scored.checks)


@pytest.mark.parametrize("module", MODULES)
def test_starter_scores_zero_and_still_gets_a_result_per_check(graded, starter_files, module):
    assert_every_check_fails_on_a_stub(graded(module, starter_files), module)


@pytest.mark.parametrize("module", [m for m in MODULES if m != MODULE_IDS[0]])
def test_only_this_module_stubbed_scores_zero(graded, starter_files, reference_files, module):
    """Every check exercises code the student writes in this module, not earlier ones.
    (With only the first module stubbed, the repo is the starter: tested above.)"""
    previous = MODULE_IDS[MODULE_IDS.index(module) - 1]
    repo = progressive(starter_files, reference_files, previous)
    assert_every_check_fails_on_a_stub(graded(module, repo), module)


@pytest.mark.parametrize("module", MODULES)
def test_full_marks_with_later_modules_still_stubs(graded, starter_files, reference_files,
                                                   module):
    repo = progressive(starter_files, reference_files, module)
    assert not_passed(graded(module, repo)) == {}


def test_every_module_has_at_least_three_seeded_bugs_caught_by_real_checks():
    assert sorted(SEEDED_BUGS) == [m for m in MODULES if m != "02_tensor"]  # see test_suite.py
    for module, bugs in SEEDED_BUGS.items():
        declared = {c.id for c in declared_checks(module)}
        assert len(bugs) >= 3 and {b.caught_by for b in bugs.values()} <= declared, module


SEEDED_CASES = [pytest.param(module, bug, id=f"{module}-{name}")
                for module, bugs in SEEDED_BUGS.items() for name, bug in bugs.items()]


@pytest.mark.parametrize("module, bug", SEEDED_CASES)
def test_seeded_bug_is_caught_by_its_named_check(backend, reference_files, module, bug):
    """Only the half of the suite that holds the catching check runs, and the reference
    runner only when that check measures against it: the rest would cost time, not rigour."""
    visibility = {c.id: c.visibility for c in declared_checks(module)}
    assert bug.caught_by in visibility, f"{bug.caught_by} is not a check of {module}"
    timed = bug.caught_by in checks_using_the_reference(module)
    result = run_suite(module, tar_of(bug.applied_to(reference_files)), backend,
                       visibility=(visibility[bug.caught_by],), call_timeout_s=10,
                       reference=REFERENCE_ROOT if timed else None)
    assert_caught(bug, outcomes(result))
