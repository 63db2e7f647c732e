"""What a student's process wrote, made safe to show: it is data, never the grader's voice.

HTML escaping is Jinja's job; this removes what escaping does not: terminal escape sequences,
control characters, bidirectional overrides that reorder what a reader sees, lone
surrogates, and text long enough to bury the page.
"""
from __future__ import annotations

import re
from collections import defaultdict

MAX_CHARS = 20_000
_ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                     "\u2066-\u2069\ud800-\udfff]")


def student_text(text: str | None, limit: int = MAX_CHARS) -> str:
    cleaned = _UNSAFE.sub("\ufffd", _ANSI.sub("", text or ""))
    if len(cleaned) > limit:
        cleaned = cleaned[:limit] + f"\n[... {len(cleaned) - limit} more characters cut]"
    return cleaned


def group_by_message(checks: list, min_group: int = 2) -> list[tuple[str, list]]:
    """Checks with the same non-empty message, in first-seen order: ``[(message, checks)]``.

    A systemic error (an import that fails, a missing method) repeats one message in every
    check; shown once with the count, it reads as one problem instead of twenty-five.
    """
    groups: dict[str, list] = defaultdict(list)
    for check in checks:
        if check.message:
            groups[check.message].append(check)
    return [(message, items) for message, items in groups.items() if len(items) >= min_group]


def first_line(message: str) -> tuple[str, str]:
    """A message's headline and the rest (a traceback, shown folded): the headline is what
    a reader scans; the last line of a traceback is its error, so that one leads."""
    lines = message.strip("\n").splitlines()
    if len(lines) <= 1:
        return message, ""
    headline = lines[-1] if lines[0].startswith("Traceback") else lines[0]
    return headline, message
