"""Checkpoint suites: one pytest file per module and visibility (see README.md)."""

from workers.checkpoints.expect import assert_array, assert_equal, assert_results
from workers.checkpoints.perf import ratio_to_reference
from workers.checkpoints.registry import check, declared_checks

__all__ = ["assert_array", "assert_equal", "assert_results", "check", "declared_checks",
           "ratio_to_reference"]
