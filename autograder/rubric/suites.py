"""Where a rubric's check ids come from: the contract's catalogue of what the suites and
milestone jobs declare, or a list the user gives.

Both are read without running anything, so a rubric can be validated (and a grade computed
against the full declared list, missing results counting as failed) before any job.
"""
from __future__ import annotations

import json
from pathlib import Path

from contract.catalogue import check_ids as suite_check_ids

__all__ = ["read_check_ids", "suite_check_ids"]


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
