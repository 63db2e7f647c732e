"""The results API's gradebook as a plain-text table for a terminal: one row per assignment,
one column per student (a course has more assignments than fit across a screen)."""
from __future__ import annotations


def _number(value: float) -> str:
    return f"{round(value, 1):g}"


def _cell(cell: dict) -> str:
    if cell["points"] is None:
        return "EX" if cell["note"].startswith("excused") else "-"
    return f"{_number(cell['points'])}/{_number(cell['max_points'])}"


def _total(row: dict, assignments: list[dict]) -> str:
    cells = [row["cells"][a["id"]] for a in assignments]
    earned = sum(c["points"] for c in cells if c["points"] is not None)
    possible = sum(c["max_points"] for c in cells if c["points"] is not None)
    return f"{_number(earned)}/{_number(possible)}" if possible else "-"


def render_gradebook(book: dict) -> str:
    """``book`` as ``GET /courses/{slug}/gradebook`` returns it.  The total counts only the
    assignments with a grade ("-" = nothing graded yet, EX = excused)."""
    assignments = book["assignments"]
    header = ["assignment", *(row["student"] for row in book["rows"])]
    lines = [[a["title"], *(_cell(row["cells"][a["id"]]) for row in book["rows"])]
             for a in assignments]
    lines.append(["total of graded", *(_total(row, assignments) for row in book["rows"])])
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]

    def fmt(line):
        return "  ".join([line[0].ljust(widths[0])]
                         + [text.rjust(w) for text, w in zip(line[1:], widths[1:])])
    rule = "-" * len(fmt(header))
    notes = [f"EX {row['student']}, {a['title']}: {row['cells'][a['id']]['note']}"
             for a in assignments for row in book["rows"]
             if _cell(row["cells"][a["id"]]) == "EX"]
    return "\n".join([fmt(header), rule, *(fmt(line) for line in lines[:-1]), rule,
                      fmt(lines[-1]), *notes])


def failed_checks(submission: dict) -> list[str]:
    """Ids of a submission's checks that did not pass (``GET /submissions/{id}``, staff)."""
    return [c["id"] for c in submission["checks"] if c["outcome"] != "passed"]
