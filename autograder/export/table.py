"""What every gradebook export shares: options, number cells, guarded text cells, CSV text.

Text cells that a spreadsheet would run as a formula (a student can pick a display name that
starts with ``=``) are written as ``="..."``: a spreadsheet then shows the text, runs nothing.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Literal

from autograder.course.course_file import Assignment
from autograder.gradebook import Gradebook, Student
from autograder.policy import FinalGrade

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportError(ValueError):
    """The gradebook cannot be exported as asked (e.g. students lack the chosen identifier)."""


@dataclass(frozen=True)
class ExportOptions:
    percent: bool = False          # grades as percentages instead of points
    decimals: int = 2
    identifier: Literal["email", "idnumber", "username"] = "email"   # Moodle's key column


def text(value: str | None) -> str:
    """A text cell that cannot run as a spreadsheet formula."""
    value = value or ""
    if value.startswith(FORMULA_STARTS):
        return '="' + value.replace('"', '""') + '"'
    return value


def number(value: float, options: ExportOptions) -> str:
    """Plain ``.`` decimals whatever the locale (Moodle and Canvas both read them)."""
    return f"{round(value, options.decimals) + 0.0:.{options.decimals}f}"


def possible(assignment: Assignment, options: ExportOptions) -> float:
    return 100.0 if options.percent else assignment.points


def grade_cell(grade: FinalGrade, options: ExportOptions, excused: str = "") -> str:
    """A grade as points or percent of the assignment; empty when there is none."""
    if grade.excused:
        return excused
    if grade.points is None:
        return ""
    value = grade.points / grade.max_points * 100 if options.percent else grade.points
    return number(value, options)


def grade_cells(gradebook: Gradebook, student_cells, options: ExportOptions,
                excused: str = "") -> list[list[str]]:
    """One row per student: ``student_cells(student)`` then the grades in course order.

    ``excused`` is the format's mark for an excused grade (empty where it has none).
    """
    return [[*student_cells(row.student), *(grade_cell(g, options, excused) for g in row.grades)]
            for row in gradebook.rows]


def require(gradebook: Gradebook, field: str, label: str, hint: str) -> None:
    """Refuse to export rows an LMS could not match to a person, naming those students."""
    lacking = [row.student.login for row in gradebook.rows
               if not getattr(row.student, field)]
    if lacking:
        raise ExportError(f"{len(lacking)} student(s) have no {label}: "
                          f"{', '.join(lacking)}; {hint}")


def to_csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def split_name(student: Student) -> tuple[str, str]:
    """(first, last) from a single display name: "Doe, Jane" or "Jane Q. Doe"."""
    name = student.name.strip()
    if "," in name:
        last, first = (part.strip() for part in name.split(",", 1))
        return first, last
    first, _, last = name.rpartition(" ")
    return first, last
