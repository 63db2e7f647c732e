"""The demo's terminal gradebook: one row per assignment, totals of graded work, and why a
cell is EX."""
from deploy.gradebook_table import render_gradebook

BOOK = {
    "assignments": [{"id": "01_setup", "title": "1. Setup"},
                    {"id": "16_kernels", "title": "16. Kernels"}],
    "rows": [
        {"student": "ann", "cells": {
            "01_setup": {"points": 10.0, "max_points": 10.0, "note": ""},
            "16_kernels": {"points": 7.5, "max_points": 15.0, "note": ""}}},
        {"student": "ben", "cells": {
            "01_setup": {"points": 8.0, "max_points": 10.0, "note": ""},
            "16_kernels": {"points": None, "max_points": 15.0,
                           "note": "excused: transferred in after the deadline"}}},
    ],
}


def test_rows_totals_and_the_reason_for_an_excused_cell():
    lines = render_gradebook(BOOK).splitlines()
    assert lines[0].split() == ["assignment", "ann", "ben"]
    assert lines[2].split() == ["1.", "Setup", "10/10", "8/10"]
    assert lines[3].split() == ["16.", "Kernels", "7.5/15", "EX"]
    assert lines[5].split()[-2:] == ["17.5/25", "8/10"]      # EX counts in neither column
    assert lines[6] == "EX ben, 16. Kernels: excused: transferred in after the deadline"
    assert len(lines) == 7
