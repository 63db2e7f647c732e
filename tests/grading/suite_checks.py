"""What the suite tests assert about a results document, and a cache of suite runs.

Shared by every ``test_suites_*.py`` so that each property is stated once for all modules.
"""

import hashlib

from tests.grading.submission_tars import tar_of
from harness.checkpoints.registry import _checks_in_file, declared_checks, suite_files
from harness.suite import run_suite


def outcomes(result):
    """``{check id: (outcome, message)}`` of a results document that has checks."""
    assert result["infrastructure_error"] is None, result["infrastructure_error"]
    return {c["id"]: (c["outcome"], c["message"]) for c in result["checks"]}


def not_passed(result):
    return {k: v for k, v in outcomes(result).items() if v[0] != "passed"}


def assert_every_check_fails_on_a_stub(result, module):
    """A result for every declared check, and each one a failure on a NotImplementedError:
    the checks exercise the stubbed code, and one stub does not stop the others running."""
    assert result["module"] == module and result["backend"] == "local"
    found = outcomes(result)
    assert list(found) == [c.id for c in declared_checks(module)]
    not_stub_failures = {k: v for k, v in found.items()
                         if v[0] != "failed" or "NotImplementedError" not in v[1]}
    assert not_stub_failures == {}


def checks_using_the_reference(module):
    """Ids of the module's checks that take the ``reference`` fixture (speed, memory)."""
    return {info.id for path in suite_files(module)
            for info, _, fixtures in _checks_in_file(path) if "reference" in fixtures}


class SuiteRuns:
    """Full-suite results by (module, submission): one run serves every test that reads it.

    A submission is keyed by the hash of its tar, so equal repos built two ways (e.g. the
    reference and "modules 1..18 from the reference") are graded once.
    """

    def __init__(self, backend):
        self.backend, self._results = backend, {}

    def __call__(self, module, files):
        tar = tar_of(files)
        key = (module, hashlib.sha256(tar).hexdigest())
        if key not in self._results:
            self._results[key] = run_suite(module, tar, self.backend)
        return self._results[key]
