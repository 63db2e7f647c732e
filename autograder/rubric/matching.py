"""Which rubric item scores which check, decided from the suite's declared check ids alone.

Deciding it without results lets ``autograder rubric check`` validate a rubric before any
job runs. A pattern that selects nothing is an error (a renamed check must not silently
become a zero), and so is an item whose every match an earlier item already took.
"""
from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from autograder.rubric.schema import LoadedRubric, Rubric
from autograder.yaml_files import ConfigError, Loc


@dataclass(frozen=True)
class Problem:
    loc: Loc
    message: str


class RubricMismatch(ValueError):
    """The rubric does not fit the suite; ``problems`` say where, for located errors."""

    def __init__(self, module: str, problems: list[Problem]):
        self.module, self.problems = module, problems
        super().__init__(f"rubric for {module} does not fit its suite: "
                         + "; ".join(p.message for p in problems))

    def located(self, loaded: LoadedRubric) -> ConfigError:
        """The same problems as one ConfigError naming the rubric file's lines."""
        return ConfigError.collect([loaded.document.error(p.loc, p.message)
                                    for p in self.problems])


@dataclass(frozen=True)
class Allocation:
    owner: dict[str, int]          # check id -> index of the rubric item scoring it
    required: frozenset[str]       # check ids that gate the rest
    unscored: tuple[str, ...]      # declared checks no item selects (worth nothing)

    def members(self, item_index: int) -> list[str]:
        return [check for check, owner in self.owner.items() if owner == item_index]


def _selected(pattern: str, check_ids: list[str]) -> list[str]:
    return [check for check in check_ids if fnmatchcase(check, pattern)]


def assign(rubric: Rubric, check_ids: list[str]) -> Allocation:
    """Map each declared check to its item; raise RubricMismatch listing every problem."""
    ids = list(dict.fromkeys(check_ids))
    problems: list[Problem] = []
    owner: dict[str, int] = {}
    for index, item in enumerate(rubric.checks):
        selected = _selected(item.match, ids)
        fresh = [check for check in selected if check not in owner]
        if not selected:
            problems.append(Problem(("checks", index, "match"),
                                    f"{item.match!r} matches no check of the {rubric.module} suite"))
        elif not fresh:
            problems.append(Problem(("checks", index, "match"),
                                    f"{item.match!r} only matches checks earlier items score"))
        owner.update(dict.fromkeys(fresh, index))
    required: set[str] = set()
    for index, pattern in enumerate(rubric.required):
        selected = _selected(pattern, ids)
        if not selected:
            problems.append(Problem(("required", index),
                                    f"{pattern!r} matches no check of the {rubric.module} suite"))
        required.update(selected)
    if problems:
        raise RubricMismatch(rubric.module, problems)
    return Allocation(owner, frozenset(required), tuple(c for c in ids if c not in owner))
