"""A small course in a real (migrated) SQLite database: awkward names, sections, overrides."""
from __future__ import annotations

import shutil
from datetime import datetime

import pytest

from autograder.db import make_engine, make_session_factory
from autograder.models import (Course, Grade, GradeOverride, Membership, Repo, Role, Submission,
                               SubmissionStatus, User)

COURSE_YAML = """\
slug: demo
title: Demo
late_policy: {per: day, penalty_percent: 10, grace_minutes: 0}
counts: latest_with_penalty
excused:
  - {student: s4, assignment: 02_tensor, reason: "joined late"}
modules:
  - {id: 01_setup, title: "Setup, part 1", points: 10, deadline: 2027-01-22T23:59:00Z,
     canvas_id: 501, blackboard_id: "_9001_1", rubric: 01_setup.yaml}
  - {id: 02_tensor, title: Tensor, points: 20, deadline: 2027-01-29T23:59:00Z,
     canvas_id: 502, rubric: 02_tensor.yaml}
"""

# login, name, email, sis id, section
STUDENTS = [
    ("s1", "Doe, Jane", "jane@example.edu", "SIS1", "A"),
    ("s2", 'Zoë "Zed" Ångström', "zoe@example.edu", "SIS2", "B"),
    ("s3", "=HYPERLINK(\"http://x\")", "@evil@example.edu", "+SIS3", "A"),
    ("s4", "Nobody Submitted", None, None, "B"),
]


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2027, 1, day, hour, 0)   # naive UTC, as the models store it


@pytest.fixture
def database_url(tmp_path, migrated_database):
    database = tmp_path / "gradebook.sqlite3"
    shutil.copyfile(migrated_database, database)
    return f"sqlite:///{database}"


@pytest.fixture
def session(database_url):
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


@pytest.fixture
def course(session):
    course = Course(slug="demo", title="Demo", config_yaml=COURSE_YAML)
    ta = User(login="ta1", name="Tess TA")
    users = {login: User(login=login, name=name, email=email)
             for login, name, email, _, _ in STUDENTS}
    session.add_all([course, ta, *users.values()])
    session.flush()
    session.add(Membership(course_id=course.id, user_id=ta.id, role=Role.ta))
    for login, _, _, sis, section in STUDENTS:
        session.add(Membership(course_id=course.id, user_id=users[login].id, role=Role.student,
                               sis_id=sis, section=section, student_number=f"N-{login}"))
        session.add(Repo(course_id=course.id, owner_id=users[login].id, path=f"demo/{login}.git"))
    session.flush()
    repos = {r.owner_id: r.id for r in session.query(Repo)}

    def graded(login, pushed_at, module, points, max_points=100.0, version="1+a"):
        user = users[login]
        submission = Submission(course_id=course.id, repo_id=repos[user.id], student_id=user.id,
                                commit_sha="ab" * 20, branch="main", pushed_at=pushed_at,
                                status=SubmissionStatus.graded)
        submission.grades = [Grade(module=module, points=points, max_points=max_points,
                                   rubric_version=version)]
        session.add(submission)
        return submission

    graded("s1", _at(20), "01_setup", 100)                  # on time: 10 / 10
    graded("s1", _at(30, 6), "02_tensor", 75)               # 1 started day late: 15 - 2 = 13
    graded("s2", _at(21), "01_setup", 50)                   # 5 / 10 ...
    session.add(GradeOverride(course_id=course.id, student_id=users["s2"].id,
                              module="01_setup", points=9.5, reason="regraded, A, B",
                              created_by_id=ta.id))        # ... overridden to 9.5
    session.add(GradeOverride(course_id=course.id, student_id=users["s2"].id,
                              module="02_tensor", points=1, reason="revoked one",
                              created_by_id=ta.id, revoked_by_id=ta.id,
                              revoked_at=_at(25)))         # revoked: ignored
    regraded = graded("s3", _at(20), "02_tensor", 40, version="2+new")
    regraded.grades.append(Grade(module="02_tensor", points=0, max_points=100.0,
                                 rubric_version="1+old", computed_at=datetime(2020, 1, 1)))
    session.commit()
    return course
