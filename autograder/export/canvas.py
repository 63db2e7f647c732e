"""Canvas gradebook import CSV (the layout Canvas's own gradebook export writes).

Canvas matches rows on ``ID`` (its internal user id, which we do not know, so it stays
empty) or on ``SIS User ID`` / ``SIS Login ID``. A column title without the
``(assignment id)`` suffix makes Canvas create a new assignment. Cells: a number, ``EX``
for excused, empty for no grade.
"""
from __future__ import annotations

from autograder.course.course_file import Assignment
from autograder.export.table import (ExportOptions, grade_cells, number, possible, text,
                                     to_csv)
from autograder.gradebook import Gradebook, Student

HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
POINTS_POSSIBLE = "    Points Possible"


def column_title(assignment: Assignment) -> str:
    if assignment.canvas_id is None:
        return assignment.title
    return f"{assignment.title} ({assignment.canvas_id})"


def _student(student: Student) -> list[str]:
    return [text(student.name), "", text(student.sis_id), text(student.login),
            text(student.section)]


def export_canvas(gradebook: Gradebook, options: ExportOptions) -> str:
    assignments = gradebook.course.assignments
    return to_csv([
        [*HEADER, *(column_title(a) for a in assignments)],
        [POINTS_POSSIBLE, "", "", "", "", *(number(possible(a, options), options)
                                           for a in assignments)],
        *grade_cells(gradebook, _student, options, excused="EX"),
    ])
