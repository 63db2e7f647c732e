"""A plain CSV for spreadsheets and scripts: roster fields, then one column per assignment id."""
from __future__ import annotations

from autograder.export.table import ExportOptions, grade_cells, text, to_csv
from autograder.gradebook import Gradebook, Student

HEADER = ["login", "name", "email", "student_number", "sis_id", "section"]


def _student(student: Student) -> list[str]:
    return [text(getattr(student, field)) for field in HEADER]


def export_plain(gradebook: Gradebook, options: ExportOptions) -> str:
    return to_csv([
        [*HEADER, *(a.id for a in gradebook.course.assignments)],
        *grade_cells(gradebook, _student, options, excused="EX"),
    ])
