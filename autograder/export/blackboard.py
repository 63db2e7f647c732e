"""Blackboard Learn Grade Center upload CSV.

Blackboard matches rows on ``Username``; a grade column is ``Title [Total Pts: N Score] |id``
where ``id`` is the Grade Center column id (``blackboard_id`` in the course file). Without
the id, uploading creates a new column. Empty cells (no grade, or excused: exemptions are set
in Blackboard itself) leave the Grade Center unchanged.
"""
from __future__ import annotations

from autograder.course.course_file import Assignment
from autograder.export.table import (ExportOptions, grade_cells, possible, split_name, text,
                                     to_csv)
from autograder.gradebook import Gradebook, Student

HEADER = ["Last Name", "First Name", "Username", "Student ID"]


def column_title(assignment: Assignment, options: ExportOptions) -> str:
    title = f"{assignment.title} [Total Pts: {possible(assignment, options):g} Score]"
    return title if assignment.blackboard_id is None else f"{title} |{assignment.blackboard_id}"


def _student(student: Student) -> list[str]:
    first, last = split_name(student)
    return [text(last), text(first), text(student.login), text(student.student_number)]


def export_blackboard(gradebook: Gradebook, options: ExportOptions) -> str:
    return to_csv([
        [*HEADER, *(column_title(a, options) for a in gradebook.course.assignments)],
        *grade_cells(gradebook, _student, options),
    ])
