"""The results document: its one builder and its model describe the same document."""
import pytest

from contract.document import check_result, results_document
from contract.results import SuiteResult, read_results


def document(**check):
    checks = [check_result("tensor.add", "adds", "public", "passed", "", 0.01, {"peak_mb": 1.0}),
              check_result("tensor.hidden", "edge", "hidden", **check)]
    return results_document("02_tensor", "harness/checkpoints", "local",
                            "2026-01-01T00:00:00+00:00", 1.5, None, checks, 12.0)


def test_the_model_reads_every_field_the_builder_writes():
    built = document(outcome="failed", message="wrong")
    read = read_results(built)
    assert set(SuiteResult.model_fields) == set(built)
    assert read.model_dump() == built


def test_the_builder_names_the_check_whose_outcome_or_visibility_is_wrong():
    with pytest.raises(ValueError, match="check tensor.hidden: outcome must be one of"):
        document(outcome="crashed")
    with pytest.raises(ValueError, match="check x.y: visibility must be one of"):
        check_result("x.y", "d", "secret", "passed")
