"""A term in four minutes: three students push over HTTP, a real worker grades them in the
Docker sandbox, the TA API and the Canvas export agree, and a rubric fix regrades with an
audit trail."""
from __future__ import annotations

import csv
import io

import pytest

from deploy.classroom import Classroom
from deploy.gradebook_table import failed_checks
from deploy.student_repos import (StudentClone, buggy_package, reference_package, seeded_bugs,
                                  starter_package)

# No timing-based check in these modules, so every expected score is exact on a loaded machine.
MODULES = ["01_setup", "03_activations"]
STUDENTS = [("demo-student-1", "Ada Reference"), ("demo-student-2", "Ben Starter"),
            ("demo-student-3", "Cy Buggy")]
BUGS = {"01_setup": "blas not reported", "03_activations": "relu as abs"}
GRADING_TIMEOUT_S = 180


@pytest.fixture(scope="module")
def course(stack, rubrics, tmp_path_factory):
    """The course after each student's one push has been graded: (classroom, pushes)."""
    classroom = Classroom.create(stack.cli, stack.api_url, rubrics, STUDENTS)
    scratch = tmp_path_factory.mktemp("students")
    packages = {"demo-student-1": reference_package(scratch / "reference"),
                "demo-student-2": starter_package(scratch / "starter"),
                "demo-student-3": buggy_package(scratch / "buggy", seeded_bugs(BUGS))}
    pushes = {login: StudentClone(stack.api_url, classroom.slug, login, classroom.tokens[login],
                                  scratch / "clones" / login).push(package, f"work of {login}")
              for login, package in packages.items()}
    assert all(push.submission_id for push in pushes.values()), pushes
    classroom.wait_finished({push.submission_id for push in pushes.values()},
                            GRADING_TIMEOUT_S)
    return classroom, pushes


def fractions(submission: dict) -> dict[str, float]:
    """Module -> fraction of its points, of the newest rubric version graded."""
    newest = sorted(submission["grades"], key=lambda g: g["computed_at"])
    return {g["module"]: g["points"] / g["max_points"] for g in newest}


def test_each_push_is_graded_with_the_expected_score(course):
    classroom, pushes = course
    graded = {login: classroom.submission(push.submission_id) for login, push in pushes.items()}
    for login, submission in graded.items():
        assert (submission["status"], submission["commit"]) == ("graded", pushes[login].commit)
    assert fractions(graded["demo-student-1"]) == {module: 1.0 for module in MODULES}
    assert failed_checks(graded["demo-student-1"]) == []
    assert fractions(graded["demo-student-2"]) == {module: 0.0 for module in MODULES}
    buggy = fractions(graded["demo-student-3"])
    assert set(buggy) == set(MODULES) and all(0 < share < 1 for share in buggy.values()), buggy
    caught = {bug.caught_by for bug in seeded_bugs(BUGS)}
    assert caught <= set(failed_checks(graded["demo-student-3"]))


def _gradebook_points(classroom: Classroom) -> dict[str, dict[str, float | None]]:
    return {row["student"]: {module: cell["points"] for module, cell in row["cells"].items()}
            for row in classroom.gradebook()["rows"]}


def test_gradebook_and_canvas_export_agree(course):
    classroom, _ = course
    points = _gradebook_points(classroom)
    assert points["demo-student-1"] == {"01_setup": 10.0, "03_activations": 20.0}
    assert points["demo-student-2"] == {"01_setup": 0.0, "03_activations": 0.0}
    rows = list(csv.DictReader(io.StringIO(classroom.canvas_csv())))
    columns = {"01_setup": "1. Setup (5001)", "03_activations": "3. Activations (5003)"}
    exported = {row["SIS Login ID"]: {module: float(row[title])
                                      for module, title in columns.items()}
                for row in rows if row["SIS Login ID"]}
    assert exported == {login: {module: round(value, 2) for module, value in cells.items()}
                        for login, cells in points.items()}


def test_a_rubric_fix_regrades_and_is_audited(course, rubrics, stack):
    """All-or-nothing on the activation checks: the buggy student loses those points, the
    reference keeps full marks, and the regrade is in the audit log with its reason."""
    classroom, pushes = course
    before = _gradebook_points(classroom)
    rubric = rubrics.parent / "03_activations.yaml"
    rubric.write_text(rubric.read_text().replace(
        '  - match: "activations.*"\n    points: 80\n',
        '  - match: "activations.*"\n    points: 80\n    all_or_nothing: true\n'))
    assert "all_or_nothing: true" in rubric.read_text()
    reason = "activation checks are all or nothing"
    updated = stack.cli("course", "update", str(rubrics), "--by", classroom.instructor[0],
                        "--reason", reason).stdout     # workers grade the stored rubric
    assert "rubric of 03_activations: " in updated
    answer = classroom.api("POST", f"/courses/{classroom.slug}/modules/03_activations/regrade",
                           json={"reason": reason}).json()
    assert sorted(answer["submissions"]) == sorted(p.submission_id for p in pushes.values())
    assert answer["enqueued"] is True
    classroom.wait_finished(set(answer["submissions"]), GRADING_TIMEOUT_S)
    after = _gradebook_points(classroom)
    assert after["demo-student-1"] == before["demo-student-1"]
    assert after["demo-student-2"] == before["demo-student-2"]
    assert after["demo-student-3"]["01_setup"] == before["demo-student-3"]["01_setup"]
    assert after["demo-student-3"]["03_activations"] < before["demo-student-3"]["03_activations"]
    versions = {g["rubric_version"] for g in
                classroom.submission(pushes["demo-student-3"].submission_id)["grades"]
                if g["module"] == "03_activations"}
    assert len(versions) == 2, versions      # the old grade is kept beside the new one
    audit = classroom.api("GET", f"/courses/{classroom.slug}/audit").json()["items"]
    assert [(e["action"], e["reason"], e["detail"]["module"]) for e in audit
            if e["action"] == "regrade_module"] == [("regrade_module", reason, "03_activations")]
