"""Each export against a hand-written file in the LMS's documented import layout.

The course (tests/export/conftest.py) has a name with a comma, one with quotes and
non-ASCII letters, formula-like cells, and a student with no submission.
"""
import csv
import io

import pytest

from autograder.export import ExportError, ExportOptions, FORMATS
from autograder.gradebook import build_gradebook

CANVAS = [
    'Student,ID,SIS User ID,SIS Login ID,Section,"Setup, part 1 (501)",Tensor (502)',
    "    Points Possible,,,,,10.00,20.00",
    '"=""=HYPERLINK(""""http://x"""")""",,"=""+SIS3""",s3,A,,8.00',
    '"Doe, Jane",,SIS1,s1,A,10.00,13.00',
    "Nobody Submitted,,,s4,B,,EX",
    '"Zoë ""Zed"" Ångström",,SIS2,s2,B,9.50,',
]
BLACKBOARD = [
    'Last Name,First Name,Username,Student ID,"Setup, part 1 [Total Pts: 10 Score] |_9001_1",'
    "Tensor [Total Pts: 20 Score]",
    '"=""=HYPERLINK(""""http://x"""")""",,s3,N-s3,,8.00',
    "Doe,Jane,s1,N-s1,10.00,13.00",
    "Submitted,Nobody,s4,N-s4,,",
    'Ångström,"Zoë ""Zed""",s2,N-s2,9.50,',
]
MOODLE_BY_USERNAME = [
    'Username,"Setup, part 1",Tensor',
    "s3,,8.00",
    "s1,10.00,13.00",
    "s4,,",
    "s2,9.50,",
]
PLAIN_PERCENT_1 = [
    "login,name,email,student_number,sis_id,section,01_setup,02_tensor",
    's3,"=""=HYPERLINK(""""http://x"""")""","=""@evil@example.edu""",N-s3,"=""+SIS3""",A,,40.0',
    's1,"Doe, Jane",jane@example.edu,N-s1,SIS1,A,100.0,65.0',
    "s4,Nobody Submitted,,N-s4,,B,,EX",
    's2,"Zoë ""Zed"" Ångström",zoe@example.edu,N-s2,SIS2,B,95.0,',
]


def lines(*rows):
    return "".join(row + "\r\n" for row in rows)


@pytest.mark.parametrize("name, options, expected", [
    ("canvas", ExportOptions(), CANVAS),
    ("blackboard", ExportOptions(), BLACKBOARD),
    ("moodle", ExportOptions(identifier="username"), MOODLE_BY_USERNAME),
    ("plain", ExportOptions(percent=True, decimals=1), PLAIN_PERCENT_1),
])
def test_export_matches_the_documented_layout(session, course, name, options, expected):
    assert FORMATS[name](build_gradebook(session, course), options) == lines(*expected)


def test_canvas_in_percent_has_100_points_possible(session, course):
    rows = list(csv.reader(io.StringIO(FORMATS["canvas"](build_gradebook(session, course),
                                                         ExportOptions(percent=True)))))
    assert rows[1] == ["    Points Possible", "", "", "", "", "100.00", "100.00"]
    assert rows[3][5:] == ["100.00", "65.00"]


def test_moodle_refuses_students_without_the_identifier(session, course):
    with pytest.raises(ExportError, match=r"1 student\(s\) have no email address: s4"):
        FORMATS["moodle"](build_gradebook(session, course), ExportOptions(identifier="email"))


def test_moodle_by_idnumber_with_section_filter(session, course):
    text = FORMATS["moodle"](build_gradebook(session, course, sections={"A"}),
                             ExportOptions(identifier="idnumber", decimals=0))
    assert text == lines('ID number,"Setup, part 1",Tensor', '"=""+SIS3""",,8', "SIS1,10,13")


def test_no_text_cell_of_any_format_starts_a_formula(session, course):
    gradebook = build_gradebook(session, course)
    for name, export in FORMATS.items():
        options = ExportOptions(identifier="username")
        for row in csv.reader(io.StringIO(export(gradebook, options))):
            risky = [c for c in row if c[:1] in ("=", "+", "-", "@") and not c.startswith('="')]
            assert risky == [], (name, row)
