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
    """Checks whose messages lead with the same error, in first-seen order:
    ``[(the first one's message, checks)]``.

    A systemic error (an import that fails, a missing method) repeats one error in every
    check, its traceback differing only in the check's own lines; shown once with the
    count, it reads as one problem instead of twenty-five.
    """
    groups: dict[str, list] = defaultdict(list)
    for check in checks:
        if check.message:
            groups[first_line(check.message)[0]].append(check)
    return [(items[0].message, items) for items in groups.values() if len(items) >= min_group]


def first_line(message: str) -> tuple[str, str, str]:
    """``(headline, full message or "", what the full message is)``: the headline is what
    a reader scans, the rest is shown folded. A traceback's last line is its error, so
    that one leads."""
    lines = message.strip("\n").splitlines()
    if len(lines) <= 1:
        return message, "", ""
    if lines[0].startswith("Traceback"):
        return lines[-1], message, "Traceback"
    return lines[0], message, "Traceback" if 'File "' in message else "Full message"
