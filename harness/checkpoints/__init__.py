"""Checkpoint suites: one pytest file per module and visibility (see README.md)."""

from harness.checkpoints.expect import assert_array, assert_equal, assert_results
from harness.checkpoints.perf import ratio_to_reference
from harness.checkpoints.registry import check, declared_checks

__all__ = ["assert_array", "assert_equal", "assert_results", "check", "declared_checks",
           "ratio_to_reference"]
