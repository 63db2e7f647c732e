"""The suite results document (docs/ARCHITECTURE.md), read strictly enough to grade from.

A document that cannot be read, or one that reports an ``infrastructure_error``, is
"not gradable": the job is retried and no attempt of the student's is lost to a zero.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contract.document import OUTCOMES, VISIBILITIES


class NotGradable(Exception):
    """The job produced no trustworthy outcome; retry it, never record a grade."""


class CheckOutcome(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    id: str = Field(min_length=1)
    description: str = ""
    visibility: Literal[VISIBILITIES] = "public"
    outcome: Literal[OUTCOMES]
    message: str = ""
    duration_s: float = 0.0
    figures: dict[str, Any] = Field(default_factory=dict)   # numbers, or curves and such


class SuiteResult(BaseModel):
    """The document :func:`contract.document.results_document` builds, field for field."""
    model_config = ConfigDict(extra="ignore", frozen=True)
    module: str
    suite: str = ""
    backend: str = ""
    started_at: str = ""
    duration_s: float = 0.0
    infrastructure_error: str | None = None
    checks: list[CheckOutcome] = Field(default_factory=list)
    peak_mb: float | None = None


def read_results(document: dict | SuiteResult) -> SuiteResult:
    """Validate a results document; raise NotGradable if it is unusable or says so itself."""
    if isinstance(document, SuiteResult):
        result = document
    else:
        try:
            result = SuiteResult.model_validate(document)
        except ValidationError as exc:
            raise NotGradable(f"results document is malformed: {exc}") from None
    if result.infrastructure_error:
        raise NotGradable(f"{result.module}: infrastructure error: {result.infrastructure_error}")
    ids = [check.id for check in result.checks]
    if len(ids) != len(set(ids)):
        raise NotGradable(f"{result.module}: results repeat a check id")
    return result
