"""The rubric file: which checks count, for how many points, and how figures are scaled.

Rubric points are weights: the course file decides a module's gradebook points, and the
grade is the rubric fraction of them. The version recorded with a grade is the declared
``version`` plus a hash of the file's text, so an edit nobody remembered to declare still
yields a new version (and can trigger a regrade).
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from autograder.course.course_file import SandboxLimits, Slug
from autograder.yaml_files import ConfigModel, Document, parse, read

Pattern = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.*?\[\]!-]+$",
                               description="a check id or an fnmatch pattern")]
FigureName = Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*$")]
Visibility = Literal["public", "hidden", "after_deadline"]


def is_measurement(value) -> bool:
    """A finite number (figures may also hold curves, text or booleans, which earn nothing)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)


class FigureScale(ConfigModel):
    """Full credit at ``full`` or better, none at ``zero`` or worse, linear in between.

    Which way is better follows from the two numbers: ``{full: 1.5, zero: 3.0}`` on
    ``ratio_to_reference`` rewards being fast, ``{full: 0.75, zero: 0.4}`` on
    ``test_accuracy`` rewards being accurate.
    """
    full: float
    zero: float

    @model_validator(mode="after")
    def _distinct(self):
        if not (math.isfinite(self.full) and math.isfinite(self.zero)) or self.full == self.zero:
            raise ValueError("'full' and 'zero' must be finite and different")
        return self

    def credit(self, value) -> float:
        """Fraction in [0, 1] earned by a measured ``value``; a non-number earns nothing."""
        if not is_measurement(value):
            return 0.0
        fraction = (self.zero - value) / (self.zero - self.full)
        return min(1.0, max(0.0, fraction))


class RubricItem(ConfigModel):
    """``points`` shared equally by the checks ``match`` selects (first matching item wins)."""
    match: Pattern
    points: float = Field(ge=0, allow_inf_nan=False)
    all_or_nothing: bool = Field(False, description="no points unless every matched check passes")
    figures: dict[FigureName, FigureScale] = Field(
        default_factory=dict, description="scales applied to a passed check's figures")
    visibility: Visibility | None = Field(None, description="default: the suite's visibility")


class RubricSandbox(ConfigModel):
    """Limits for this module's job, over the course's ``sandbox`` defaults."""
    wall_s: float | None = Field(None, gt=0)
    memory_mb: int | None = Field(None, gt=0)
    cpus: float | None = Field(None, gt=0)


class EarlyStop(ConfigModel):
    """When a milestone gives up before its budget, so a broken model fails fast.

    A non-finite loss ends the job at once (nothing is left to score). A loss that has not
    fallen by ``min_delta`` below its best in ``patience_epochs`` epochs ends training, and
    the model is still scored on what it learned (``sandbox/milestone_driver.py``).
    """
    on_nonfinite_loss: bool = True
    patience_epochs: int | None = Field(None, ge=1)
    min_delta: float = Field(0.0, ge=0)


class TrainingRun(ConfigModel):
    """For the milestone job: how long it may train, and when it gives up early."""
    budget_s: float = Field(gt=0)
    early_stop: EarlyStop | None = None


class Rubric(ConfigModel):
    module: Slug
    version: str | int
    title: str = ""
    sandbox: RubricSandbox = RubricSandbox()
    required: list[Pattern] = Field(
        default_factory=list, description="if any check these select fails, the rest earn 0")
    checks: list[RubricItem] = Field(min_length=1)
    training: TrainingRun | None = None

    @model_validator(mode="after")
    def _earns_something(self):
        if sum(item.points for item in self.checks) <= 0:
            raise ValueError("the checks together must be worth more than 0 points")
        return self

    @property
    def max_points(self) -> float:
        return math.fsum(item.points for item in self.checks)

    def limits(self, course_defaults: SandboxLimits) -> SandboxLimits:
        """The sandbox limits for this module's job: the course's, with this rubric's over them."""
        return course_defaults.model_copy(update=self.sandbox.model_dump(exclude_none=True))


@dataclass(frozen=True)
class LoadedRubric:
    """A validated rubric with its version and the document, for located errors later."""
    rubric: Rubric
    version: str
    document: Document


def rubric_version(declared: str | int, text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return f"{declared}+{digest}"


def _validated(document: Document) -> LoadedRubric:
    rubric = document.validate(Rubric)
    return LoadedRubric(rubric, rubric_version(rubric.version, document.text), document)


def parse_rubric(text: str, path: str = "<rubric>") -> LoadedRubric:
    return _validated(parse(text, path))


def load_rubric(path: str | Path) -> LoadedRubric:
    return _validated(read(path))
