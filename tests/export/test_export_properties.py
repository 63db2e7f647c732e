"""Any roster text survives every export: one CSV row per student, text recoverable, inert."""
import csv
import io
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.course.course_file import parse_course
from autograder.export import FORMATS, ExportOptions
from autograder.gradebook import Gradebook, GradebookRow, Student
from autograder.policy import FinalGrade
from tests.export.conftest import COURSE_YAML

COURSE = parse_course(COURSE_YAML)
text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)


def unguard(cell):
    return cell[2:-1].replace('""', '"') if cell.startswith('="') else cell


@st.composite
def rows(draw):
    students = draw(st.lists(st.tuples(text, text, st.none() | text), max_size=6,
                             unique_by=lambda t: t[0]))
    points = st.none() | st.floats(0, 20, allow_nan=False)
    return tuple(GradebookRow(
        Student(i, login, name, f"{i}@example.edu", f"N{i}", f"SIS{i}", section),
        tuple(FinalGrade(a.id, draw(points), a.points, None, timedelta(0))
              for a in COURSE.assignments))
        for i, (login, name, section) in enumerate(students))


@settings(max_examples=150, deadline=None)
@given(rows(), st.sampled_from(sorted(FORMATS)))
def test_rows_survive_and_no_cell_can_run_as_a_formula(book_rows, name):
    exported = FORMATS[name](Gradebook(COURSE, book_rows), ExportOptions(identifier="username"))
    parsed = list(csv.reader(io.StringIO(exported, newline="")))
    header_rows = 2 if name == "canvas" else 1
    assert len(parsed) == header_rows + len(book_rows)
    for row, source in zip(parsed[header_rows:], book_rows):
        assert source.student.login in [unguard(cell) for cell in row]
        assert all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) or c.startswith('="')
                   for c in row)
        grades = row[-len(COURSE.assignments):]
        for cell, grade in zip(grades, source.grades):
            assert cell == ("" if grade.points is None else f"{grade.points:.2f}")
