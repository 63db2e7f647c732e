"""The check ids every module's suite and every milestone job declares, as data.

The service validates rubrics against these ids without importing the harness or the
workers (or running anything). ``check_ids.json`` is written by ``python -m
workers.catalogue`` from the suite files and the milestone jobs; a test keeps the two equal.
"""
import json
from functools import cache
from pathlib import Path

CATALOGUE = Path(__file__).with_name("check_ids.json")


@cache
def catalogue() -> dict[str, list[str]]:
    """``{module or milestone id: [check id, ...]}`` in declaration order."""
    return json.loads(CATALOGUE.read_text(encoding="utf-8"))


def check_ids(module: str) -> list[str] | None:
    """The module's declared check ids; None when it has no suite (yet)."""
    ids = catalogue().get(module)
    return list(ids) if ids is not None else None
