"""The gradebook read from a real SQLite database with the project's migrations."""
import pytest

from autograder.gradebook import build_gradebook
from autograder.models import CourseRubric


def by_login(gradebook):
    return {row.student.login: {g.assignment_id: g for g in row.grades} for row in gradebook.rows}


def test_final_grades_follow_policy_and_overrides(session, course):
    grades = by_login(build_gradebook(session, course))
    assert grades["s1"]["01_setup"].points == 10
    assert grades["s1"]["02_tensor"].points == pytest.approx(13)   # 15, one started day late
    assert grades["s1"]["02_tensor"].penalty == pytest.approx(2)
    s2 = grades["s2"]["01_setup"]
    assert (s2.points, s2.computed_points, s2.override.by) == (9.5, 5, "ta1")
    assert grades["s2"]["02_tensor"].points is None                # revoked override ignored
    assert grades["s3"]["02_tensor"].points == pytest.approx(8)     # newest rubric version's grade
    assert all(g.points is None for g in grades["s4"].values())     # nothing submitted
    assert (grades["s4"]["01_setup"].excused, grades["s4"]["02_tensor"].excused) == (False, True)
    assert grades["s4"]["02_tensor"].note == "excused: joined late"


def test_rows_cover_students_only_in_name_order_and_filter_by_section(session, course):
    gradebook = build_gradebook(session, course)
    assert [r.student.login for r in gradebook.rows] == ["s3", "s1", "s4", "s2"]
    assert [[g.assignment_id for g in r.grades] for r in gradebook.rows][0] == \
        ["01_setup", "02_tensor"]
    section_b = build_gradebook(session, course, sections={"B"})
    assert [r.student.login for r in section_b.rows] == ["s4", "s2"]


def test_grades_from_an_earlier_rubric_version_are_marked_until_regraded(session, course):
    """s1's 02_tensor grade came from version 1+a; the course now grades with 2+new (s3 has a
    grade under it). 01_setup's rubric changed too: s1's computed grade is marked, s2's
    override (a TA's number, not the rubric's) is not."""
    session.add_all([CourseRubric(course_id=course.id, assignment_id="01_setup", text="",
                                  version="2+b"),
                     CourseRubric(course_id=course.id, assignment_id="02_tensor", text="",
                                  version="2+new")])
    session.flush()
    book = build_gradebook(session, course)
    marked = {(row.student.login, g.assignment_id) for row in book.rows for g in row.grades
              if book.on_old_rubric(g)}
    assert by_login(book)["s2"]["01_setup"].override is not None
    assert marked == {("s1", "01_setup"), ("s1", "02_tensor")}
    assert book.old_rubric_counts() == {"01_setup": 1, "02_tensor": 1}
