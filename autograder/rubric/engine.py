"""The rubric engine: a suite results document and a rubric in, points out. Pure Python.

The same rubric file and the same results always give the same grade, so a regrade under
an unchanged rubric version is a no-op and the grade can be recomputed at will.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from autograder.rubric.matching import Problem, RubricMismatch, assign
from contract.results import CheckOutcome, SuiteResult, read_results
from autograder.rubric.schema import LoadedRubric, RubricItem, is_measurement

MISSING = "missing"   # declared by the suite, absent from the results: counts as failed


@dataclass(frozen=True)
class CheckScore:
    id: str
    item: str            # the rubric pattern that scored it
    points: float
    max_points: float
    outcome: str         # passed | failed | error | timeout | missing
    message: str
    visibility: str      # public | hidden | after_deadline
    required: bool


@dataclass(frozen=True)
class RubricGrade:
    module: str
    points: float
    max_points: float
    rubric_version: str
    checks: tuple[CheckScore, ...]
    gated_by: tuple[str, ...]     # required checks that failed, zeroing the rest
    unscored: tuple[str, ...]     # suite checks the rubric gives no points

    @property
    def fraction(self) -> float:
        """Share of the maximum earned (0 for a view that shows no scored check)."""
        return self.points / self.max_points if self.max_points else 0.0

    def for_student(self, after_deadline: bool) -> RubricGrade:
        """What a student may see: public checks, and ``after_deadline`` ones once it passed."""
        shown = {"public", "after_deadline"} if after_deadline else {"public"}
        checks = tuple(c for c in self.checks if c.visibility in shown)
        ids = {c.id for c in checks}
        return replace(self, checks=checks, points=_total(c.points for c in checks),
                       max_points=_total(c.max_points for c in checks),
                       gated_by=tuple(c for c in self.gated_by if c in ids), unscored=())


def _total(values) -> float:
    # fsum then rounding: shares like 1/3 must not add up to 1.0000000000000002 of the max.
    return round(math.fsum(values), 9)


def _credit(item: RubricItem, check: CheckOutcome | None) -> tuple[float, str]:
    """Fraction of its share a check earns, and why it earned less than all of it."""
    if check is None:
        return 0.0, "no result was reported for this check"
    if check.outcome != "passed":
        return 0.0, check.message or check.outcome
    fraction, notes = 1.0, []
    for name, scale in item.figures.items():
        value = check.figures.get(name)
        credit = scale.credit(value)
        fraction *= credit
        if value is None:
            notes.append(f"{name} was not measured")
        elif not is_measurement(value):
            notes.append(f"{name} = {value!r:.40} is not a finite number")
        elif credit < 1.0:
            notes.append(f"{name} = {value:g} (full credit at {scale.full:g}, "
                         f"none at {scale.zero:g})")
    return fraction, "; ".join(notes) or check.message


def grade(loaded: LoadedRubric, results: dict | SuiteResult,
          declared_ids: list[str] | None = None) -> RubricGrade:
    """Score ``results`` under ``loaded``.

    ``declared_ids`` are the suite's check ids; a declared check with no result fails.
    Raises NotGradable for an infrastructure error and RubricMismatch when the rubric names
    checks the suite does not have.
    """
    rubric = loaded.rubric
    result = read_results(results)
    if result.module != rubric.module:
        raise RubricMismatch(rubric.module, [Problem(("module",), f"results are for "
                                                     f"{result.module}, not {rubric.module}")])
    by_id = {check.id: check for check in result.checks}
    allocation = assign(rubric, [*(declared_ids or []), *by_id])
    not_passed = {c for c in allocation.owner.keys() | allocation.required
                  if c not in by_id or by_id[c].outcome != "passed"}
    gated_by = tuple(sorted(allocation.required & not_passed))
    scores = []
    for index, item in enumerate(rubric.checks):
        members = allocation.members(index)
        share = item.points / len(members)
        spoiled = item.all_or_nothing and not_passed.intersection(members)
        for check_id in members:
            outcome = by_id.get(check_id)
            fraction, message = _credit(item, outcome)
            required = check_id in allocation.required
            if gated_by and not required:
                fraction, message = 0.0, "no points: a required check did not pass"
            elif spoiled and fraction > 0:
                fraction, message = 0.0, "no points: all of its group must pass"
            scores.append(CheckScore(
                id=check_id, item=item.match, points=share * fraction, max_points=share,
                outcome=outcome.outcome if outcome else MISSING, message=message,
                visibility=item.visibility or (outcome.visibility if outcome else "hidden"),
                required=required))
    max_points = _total(item.points for item in rubric.checks)
    return RubricGrade(rubric.module, min(max_points, _total(s.points for s in scores)),
                       max_points, loaded.version, tuple(scores), gated_by, allocation.unscored)
