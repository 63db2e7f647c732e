"""Writes ``contract/check_ids.json``: the check ids the suites and milestone jobs declare.

    python -m workers.catalogue

Run it after adding or renaming a check; ``tests/grading/test_catalogue.py`` fails until the
file matches the suites.
"""
import json

from contract.catalogue import CATALOGUE
from harness.checkpoints.registry import declared_checks, modules_with_suites
from workers.milestones import job as milestone_job


def declared() -> dict[str, list[str]]:
    """Every module's and milestone's check ids, read from the suites without running them."""
    ids = {module: [info.id for info in declared_checks(module)]
           for module in modules_with_suites()}
    ids.update({name: [check_id for check_id, _, _ in milestone_job.declared_checks(name)]
                for name in milestone_job.METRIC})
    return ids


def main():
    CATALOGUE.write_text(json.dumps(declared(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {CATALOGUE}")


if __name__ == "__main__":
    main()
