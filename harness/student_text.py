"""Text that came from the student's process, made safe to store and show.

Exception messages, tracebacks, output tails and progress fields are written by student code:
they may hold NUL (PostgreSQL refuses it), lone surrogates (no database encodes them), ANSI
escapes and bidi overrides (which rewrite what a TA sees), or read as the grader's own voice.
:func:`clean` makes any such text storable; :func:`quoted` also marks every line as the
student's, so it never reads as a grader's note.
"""

import math
import re

MAX_TEXT = 4000
STUDENT_MARK = "| "
_ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
# C0/C1 controls except tab and newline; bidi embeddings, overrides, isolates and marks;
# lone surrogates; the BOM and the replacement of line/paragraph separators.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u061c\u202a-\u202e"
                     "\u2066-\u2069\ufeff\u2028\u2029\ud800-\udfff]")


def clean(text, limit=MAX_TEXT):
    """``text`` without escapes, control, bidi or surrogate characters, cut at ``limit``."""
    if type(text) is not str:
        text = "" if text is None else str(text)
    text = _UNSAFE.sub("\N{REPLACEMENT CHARACTER}", _ANSI.sub("", text.replace("\r\n", "\n")))
    return text if len(text) <= limit else text[:limit] + " [cut]"


def quoted(text, limit=MAX_TEXT):
    """:func:`clean` text with every line marked as the student's output."""
    return "\n".join(STUDENT_MARK + line for line in clean(text, limit).split("\n"))


def identifier(text, limit=200):
    """A name (e.g. an exception type) reduced to the characters a Python name may have."""
    return re.sub(r"[^A-Za-z0-9_.]", "?", clean(text, limit)) or "?"


def plain_data(value, limit=MAX_TEXT):
    """``value`` (figures: numbers, text, lists, dicts) with every string cleaned and every
    non-finite float as None, so any database's JSON column takes it."""
    if type(value) is str:
        return clean(value, limit)
    if type(value) is float:
        return value if math.isfinite(value) else None
    if type(value) in (list, tuple):
        return [plain_data(item, limit) for item in value]
    if type(value) is dict:
        return {clean(str(key), 200): plain_data(item, limit) for key, item in value.items()}
    return value
