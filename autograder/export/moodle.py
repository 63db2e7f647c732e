"""Moodle grade import CSV: one identity column, then one column per grade item.

On import the instructor maps the identity column to the matching Moodle user field
(email address, ID number or username) and each other column to a grade item. Decimals use
``.``; an empty cell means no grade (Moodle's import has no mark for excused, so an
excused grade is empty too).
"""
from __future__ import annotations

from autograder.export.table import ExportOptions, grade_cells, require, text, to_csv
from autograder.gradebook import Gradebook

IDENTIFIERS = {   # option -> (header, Student field)
    "email": ("Email address", "email"),
    "idnumber": ("ID number", "sis_id"),
    "username": ("Username", "login"),
}


def export_moodle(gradebook: Gradebook, options: ExportOptions) -> str:
    header, field = IDENTIFIERS[options.identifier]
    require(gradebook, field, header.lower(), "choose another --identifier")
    return to_csv([
        [header, *(a.title for a in gradebook.course.assignments)],
        *grade_cells(gradebook, lambda s: [text(getattr(s, field))], options),
    ])
