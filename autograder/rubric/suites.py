"""Where a rubric's check ids come from: the suite registry, a milestone job, or a list the user gives.

Both are read without running anything, so a rubric can be validated (and a grade computed
against the full declared list, missing results counting as failed) before any job.
"""
from __future__ import annotations

import json
from pathlib import Path

from workers.milestones import job as milestone_job
from harness.checkpoints.registry import declared_checks, modules_with_suites


def suite_check_ids(module: str) -> list[str] | None:
    """The check ids the module's checkpoint suite (or the milestone job)
    declares; None: no suite yet."""
    if module in milestone_job.METRIC:
        return [check_id for check_id, _, _ in milestone_job.declared_checks(module)]
    if module not in modules_with_suites():
        return None
    return [info.id for info in declared_checks(module)]


def read_check_ids(path: Path) -> list[str]:
    """Check ids from a results JSON document or a text file with one id per line."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".json":
        return [line.strip() for line in text.splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    try:
        return [check["id"] for check in json.loads(text)["checks"]]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: not a suite results document ({error!r})") from None
