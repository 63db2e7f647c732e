"""Workers grade the rubric text stored with the course at create time, wherever the
instructor's files were: no file is read from AUTOGRADER_RUBRICS_DIR, no server path shown."""

from sqlalchemy import select

from autograder.models import CourseRubric, SubmissionStatus
from workers import grading
from harness.backends.local import LocalBackend
from tests.workers.grading_world import MODULE


def test_a_course_created_from_another_folder_grades_its_stored_rubric(
        world, reference_package, tmp_path):
    with world.sessions() as session:
        (stored,) = session.scalars(select(CourseRubric).where(
            CourseRubric.course_id == world.course_id)).all()
    assert (stored.assignment_id, stored.text) == (
        MODULE, (world.rubrics_dir / f"{MODULE}.yaml").read_text())
    (world.rubrics_dir / f"{MODULE}.yaml").unlink()      # the instructor's folder is gone
    elsewhere = tmp_path / "server-rubrics"
    elsewhere.mkdir()
    settings = world.settings(rubrics_dir=elsewhere)
    submission_id = world.submit("ref", reference_package)
    assert grading.grade_submission(submission_id, world.sessions, settings,
                                    LocalBackend()) == SubmissionStatus.graded
    (grade,) = world.submission(submission_id).grades
    assert grade.rubric_version == stored.version
