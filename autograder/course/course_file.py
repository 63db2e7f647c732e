"""The course file (``rubrics/course.yaml``): modules, milestones, deadlines and late policy.

One YAML file an instructor edits; the service stores its text in ``Course.config_yaml``
and everything that grades or exports reads it through ``CourseConfig``.
"""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, model_validator

from autograder.yaml_files import ConfigError, ConfigModel, Document, parse, read

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(d|h|m|s)\s*$")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def _duration(value):
    """Accept ``7d``, ``36h``, ``90m``, ``30s`` (what people write) besides pydantic's forms."""
    if isinstance(value, str) and (found := _DURATION.match(value)):
        return timedelta(seconds=float(found[1]) * _UNIT_SECONDS[found[2]])
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]
# What ``git check-ref-format --branch`` refuses, so a course never names a branch git can't.
_NOT_IN_BRANCH = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|/\.|\.lock(/|$)")


def _branch_name(value: str) -> str:
    if not value or value == "@" or _NOT_IN_BRANCH.search(value) \
            or value.startswith(("-", "/", ".")) or value.endswith(("/", ".")):
        raise ValueError(f"{value!r} is not a git branch name (e.g. main or submit/final: no "
                         f"spaces, no '..', not starting with '-')")
    return value


BranchName = Annotated[str, AfterValidator(_branch_name)]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
Percent = Annotated[float, Field(ge=0, le=100)]


class SandboxLimits(ConfigModel):
    """Defaults for the sandbox; a rubric may override any of them (see ``Rubric.sandbox``)."""
    wall_s: float = Field(300.0, gt=0)
    memory_mb: int = Field(1024, gt=0)
    cpus: float = Field(1.0, gt=0)
    pids: int = Field(128, gt=0)


class Assignment(ConfigModel):
    """A module or milestone: what the LMS sees as one gradebook column."""
    id: Slug
    title: str = Field(min_length=1)
    points: float = Field(gt=0)
    deadline: AwareDatetime
    rubric: str = Field(min_length=1, description="path relative to the course file")
    canvas_id: int | None = Field(None, gt=0)
    blackboard_id: str | None = Field(None, min_length=1, description="Grade Center column id")


class LatePolicy(ConfigModel):
    """Canvas-style deduction: a percent of the points possible per late day or hour.

    ``floor_percent`` is the lowest grade the deduction can bring a submission to (a grade
    already below it is not raised); ``cap_percent`` caps any late submission's grade.
    """
    per: Literal["day", "hour"] = "day"
    penalty_percent: Percent = 10.0
    grace_minutes: float = Field(0.0, ge=0)
    floor_percent: Percent = 0.0
    cap_percent: Percent | None = None


class StudentException(ConfigModel):
    """A rule for one student on one assignment (``"*"``: all of them), with its reason."""
    student: str = Field(min_length=1, description="the student's login")
    assignment: str = "*"
    reason: str = ""

    def applies(self, student: str, assignment_id: str) -> bool:
        return self.student == student and self.assignment in ("*", assignment_id)


class Excusal(StudentException):
    """Excused: no grade is counted, and Canvas shows EX (a TA override still wins)."""


class Extension(StudentException):
    """More time, by a duration from the deadline or to a date."""
    extra: Duration | None = None
    until: AwareDatetime | None = None

    @model_validator(mode="after")
    def _one_way(self):
        if (self.extra is None) == (self.until is None):
            raise ValueError("give exactly one of 'extra' (e.g. 2d) or 'until' (a date)")
        return self


Counts = Literal["latest_before_deadline", "best", "latest_with_penalty"]


class CourseConfig(ConfigModel):
    slug: Slug
    title: str = Field(min_length=1)
    graded_branch: BranchName = "main"
    modules: list[Assignment] = Field(min_length=1)
    milestones: list[Assignment] = []
    late_policy: LatePolicy = LatePolicy()
    counts: Counts = "latest_with_penalty"
    close_after_deadline: Duration | None = Field(
        None, description="after deadline (+ extension) + this, pushes no longer count")
    extensions: list[Extension] = []
    excused: list[Excusal] = []
    release_hidden_checks: Duration | None = Field(
        None, description="after a student's deadline (+ extension) + this, the student sees "
                          "that assignment's hidden checks in full; unset: only as a count")
    sandbox: SandboxLimits = SandboxLimits()
    isolation: Literal["best_of", "own", "reference"] = Field(
        "best_of", description="a module's grade from the student's whole package (own), from "
        "their files of that module on the reference's other modules (reference), or the "
        "better of the two (best_of; the second run only when the first has failures)")

    @model_validator(mode="after")
    def _ids_unique_and_known(self):
        ids = [a.id for a in self.assignments]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"assignment ids must be unique; repeated: {', '.join(repeated)}")
        for rule in [*self.extensions, *self.excused]:
            if rule.assignment != "*" and rule.assignment not in ids:
                raise ValueError(f"{type(rule).__name__.lower()} for {rule.student} names "
                                 f"unknown assignment {rule.assignment!r}")
        return self

    @property
    def assignments(self) -> list[Assignment]:
        """Modules then milestones, the gradebook's column order."""
        return [*self.modules, *self.milestones]

    def assignment(self, assignment_id: str) -> Assignment:
        for item in self.assignments:
            if item.id == assignment_id:
                return item
        raise KeyError(f"course {self.slug} has no assignment {assignment_id!r}")

    def extensions_for(self, student: str, assignment_id: str) -> list[Extension]:
        return [e for e in self.extensions if e.applies(student, assignment_id)]

    def excusal_for(self, student: str, assignment_id: str) -> Excusal | None:
        return next((e for e in self.excused if e.applies(student, assignment_id)), None)


def _check_rubric_files(document: Document, course: CourseConfig, base: Path) -> None:
    """Every named rubric file must exist, reported at its line in the course file."""
    missing = [document.error((group, index, "rubric"), f"no such file: {base / item.rubric}")
               for group in ("modules", "milestones")
               for index, item in enumerate(getattr(course, group))
               if not (base / item.rubric).is_file()]
    if missing:
        raise ConfigError.collect(missing)


def parse_course(text: str, path: str = "<course>") -> CourseConfig:
    """Validate course YAML text (as stored in the database); rubric paths are not checked."""
    return parse(text, path).validate(CourseConfig)


def load_course_document(path: str | Path) -> tuple[Document, CourseConfig]:
    """The course file's document (for located errors) and its validated configuration; the
    rubric files it names must exist beside it."""
    document = read(path)
    course = document.validate(CourseConfig)
    _check_rubric_files(document, course, Path(path).parent)
    return document, course


def load_course(path: str | Path) -> CourseConfig:
    """Load the course file and check that the rubric files it names exist beside it."""
    return load_course_document(path)[1]
