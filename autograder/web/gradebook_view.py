"""The TA gradebook as a table: totals, sorting by any column, per-assignment mean, median
and a histogram drawn as inline SVG on the server (no JavaScript library, works printed)."""
from __future__ import annotations

import statistics
from dataclasses import dataclass

from werkzeug.exceptions import BadRequest

from autograder.gradebook import Gradebook, GradebookRow
from autograder.policy import FinalGrade

BINS = 10
FIXED_COLUMNS = ("name", "login", "section", "total")


@dataclass(frozen=True)
class Total:
    points: float
    possible: float     # excused assignments are out of the total, not zeros

    @property
    def percent(self) -> float | None:
        return None if not self.possible else 100 * self.points / self.possible


@dataclass(frozen=True)
class Column:
    id: str
    title: str
    points: float
    mean: float | None
    median: float | None
    graded: int
    histogram: str      # SVG markup, built from numbers only


@dataclass(frozen=True)
class Table:
    columns: list[Column]
    rows: list[tuple[GradebookRow, Total]]
    sort: str
    order: str


def total(row: GradebookRow) -> Total:
    """The course total: every assignment's grade that counts (missing ones as 0), excused
    ones left out of both points and possible."""
    counted = [g for g in row.grades if not (g.excused and g.override is None)]
    return Total(sum(g.points or 0.0 for g in counted), sum(g.max_points for g in counted))


def histogram_svg(values: list[float], maximum: float, width: int = 120,
                  height: int = 36) -> str:
    """Bars of how many grades fall in each tenth of ``maximum`` (the last bin takes full
    marks); only numbers go into the markup."""
    counts = [0] * BINS
    for value in values:
        counts[min(BINS - 1, max(0, int(value / maximum * BINS)))] += 1
    tallest, bar = max(counts) or 1, width / BINS
    bars = "".join(
        f'<rect x="{i * bar:.1f}" y="{height - c / tallest * height:.1f}" '
        f'width="{bar - 1:.1f}" height="{c / tallest * height:.1f}">'
        f'<title>{i * 10}-{(i + 1) * 10}%: {c}</title></rect>'
        for i, c in enumerate(counts))
    return (f'<svg class="histogram" role="img" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" aria-label="distribution of grades">'
            f'{bars}<line x1="0" y1="{height}" x2="{width}" y2="{height}"/></svg>')


def _columns(book: Gradebook) -> list[Column]:
    columns = []
    for index, assignment in enumerate(book.course.assignments):
        values = [row.grades[index].points for row in book.rows
                  if row.grades[index].points is not None]
        columns.append(Column(
            assignment.id, assignment.title, assignment.points,
            statistics.fmean(values) if values else None,
            statistics.median(values) if values else None, len(values),
            histogram_svg(values, assignment.points)))
    return columns


def _key(sort: str, ids: list[str]):
    if sort in ("name", "login", "section"):
        return lambda item: (getattr(item[0].student, sort) or "").casefold()
    if sort == "total":
        return lambda item: item[1].points
    index = ids.index(sort)

    def grade(item) -> tuple[bool, float]:
        cell: FinalGrade = item[0].grades[index]
        return (cell.points is not None, cell.points or 0.0)   # no grade sorts lowest
    return grade


def gradebook_table(book: Gradebook, sort: str, order: str) -> Table:
    """Rows sorted by ``sort`` (a fixed column or an assignment id), ``order`` asc/desc."""
    ids = [a.id for a in book.course.assignments]
    if sort not in FIXED_COLUMNS and sort not in ids:
        raise BadRequest(f"sort: one of {', '.join([*FIXED_COLUMNS, *ids])}, got {sort!r}")
    if order not in ("asc", "desc"):
        raise BadRequest(f"order: asc or desc, got {order!r}")
    rows = [(row, total(row)) for row in book.rows]
    rows.sort(key=_key(sort, ids), reverse=order == "desc")
    return Table(_columns(book), rows, sort, order)
