"""Module-specific tests of the checkpoint suites of modules 01 and 03-08 on real runners.

What every suite must do (reference 100%, starter 0, progressive gradability, seeded bugs) is
in test_suites_every_module.py.
"""

from autograder.rubric import grade, load_rubric
from tests.grading.submission_tars import CHECKOUT, patched, tar_of
from harness.checkpoints.registry import declared_checks
from harness.suite import run_suite


def test_adam_moments_in_float64_cost_memory_credit_under_the_rubric(backend, reference_files):
    """The memory figure is measured, not assumed: float64 moments for float32 parameters
    double the state, which still passes but earns less under the shipped rubric."""
    files = patched(reference_files, "tinytorch/core/optimizers.py",
                    'state["m"], state["v"] = np.zeros_like(param), np.zeros_like(param)',
                    'state["m"], state["v"] = np.zeros(param.shape), np.zeros(param.shape)')
    result = run_suite("06_optimizers", tar_of(files), backend, visibility=("public",))
    memory = next(c for c in result["checks"] if c["id"] == "optimizers.adam.memory")
    assert (memory["outcome"], memory["figures"]["memory_ratio"]) == ("passed", 2.0)
    rubric = load_rubric(CHECKOUT / "rubrics" / "06_optimizers.yaml")
    declared = [c.id for c in declared_checks("06_optimizers")]
    scored = next(c for c in grade(rubric, result, declared).checks
                  if c.id == "optimizers.adam.memory")
    assert 0 < scored.points < scored.max_points
