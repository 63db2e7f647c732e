"""Query-string parsing shared by the API and the pages; a bad value is a 400 naming it.

An empty value (what an HTML form sends for "any") means no filter.
"""
from __future__ import annotations

from datetime import datetime, timezone

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest

from autograder.api.queries import SubmissionFilter
from autograder.models import SubmissionStatus


def _text(args: MultiDict, name: str) -> str | None:
    return args.get(name) or None


def _datetime(args: MultiDict, name: str) -> datetime | None:
    raw = _text(args, name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name}: not an ISO-8601 date or time: {raw!r}") from None
    return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value


def _status(args: MultiDict) -> SubmissionStatus | None:
    raw = _text(args, "status")
    if raw is None:
        return None
    try:
        return SubmissionStatus(raw)
    except ValueError:
        choices = ", ".join(s.value for s in SubmissionStatus)
        raise BadRequest(f"status: one of {choices}, got {raw!r}") from None


def flag(args: MultiDict, name: str, default: bool = False) -> bool:
    """A boolean parameter: ``true`` or ``false`` (anything else is refused, never ignored)."""
    raw = _text(args, name)
    if raw is None:
        return default
    if raw not in ("true", "false"):
        raise BadRequest(f"{name}: true or false, got {raw!r}")
    return raw == "true"


def choice(args: MultiDict, name: str, choices, default: str) -> str:
    """One of ``choices``; empty or absent: ``default``."""
    value = _text(args, name) or default
    if value not in choices:
        raise BadRequest(f"{name}: one of {', '.join(choices)}, got {value!r}")
    return value


def whole_number(args: MultiDict, name: str, default: int, low: int, high: int) -> int:
    raw = args.get(name) or str(default)
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadRequest(f"{name}: expected a whole number from {low} to {high}, got {raw!r}")
    return int(raw)


def submission_filter(args: MultiDict, student: str | None) -> SubmissionFilter:
    """The filter the query string asks for, with ``student`` decided by the caller."""
    return SubmissionFilter(student=student, module=_text(args, "module"), status=_status(args),
                            since=_datetime(args, "since"), until=_datetime(args, "until"))


def page_and_size(args: MultiDict, size_max: int) -> tuple[int, int]:
    return (whole_number(args, "page", 1, 1, 10**6),
            whole_number(args, "per_page", 50, 1, size_max))
