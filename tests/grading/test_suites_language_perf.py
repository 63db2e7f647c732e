"""Module-specific tests of the checkpoint suites of modules 13-18 on real runners.

What every suite must do (reference 100% with its figures, starter 0, progressive
gradability, seeded bugs) is in test_suites_every_module.py.
"""

from tests.grading.submission_tars import module_path, patched, tar_of
from tests.grading.suite_checks import outcomes
from harness.suite import run_suite


def test_a_loader_that_refuses_everything_earns_no_refusal_check(backend, reference_files):
    files = patched(reference_files, module_path("18_mlops"),
                    'if actual != manifest["sha256"]:', "if True:")
    found = outcomes(run_suite("18_mlops", tar_of(files), backend))
    refusals = {k: v[0] for k, v in found.items() if k.endswith("_refused")}
    assert len(refusals) == 5 and set(refusals.values()) == {"failed"}
