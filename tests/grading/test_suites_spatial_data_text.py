"""Module-specific tests of the checkpoint suites of modules 09-12 on real runners.

What every suite must do (reference 100% with its figures and every rubric point, starter 0,
progressive gradability, seeded bugs) is in test_suites_every_module.py.
"""

from tests.grading.submission_tars import prepended, tar_of
from tests.grading.suite_checks import not_passed
from harness.suite import run_suite

PILLOW_BLOCKED = """import sys


class _NoPillow:
    def find_spec(self, name, path=None, target=None):
        if name == "PIL" or name.startswith("PIL."):
            raise ModuleNotFoundError("No module named 'PIL'", name=name)


sys.meta_path.insert(0, _NoPillow())
"""


def test_image_checks_report_that_they_did_not_run_without_pillow(backend, reference_files):
    result = run_suite("10_dataloader", tar_of(prepended(reference_files, "tinytorch/__init__.py",
                                                         PILLOW_BLOCKED)),
                       backend, visibility=("hidden",))
    found = not_passed(result)
    assert set(found) == {"dataloader.cifar.image_folder", "dataloader.cifar.image_tarball",
                          "dataloader.cifar.image_modes"}
    assert all(outcome == "error" and "Pillow is not installed" in message
               for outcome, message in found.values())
