"""Milestones in a grading job (workers/milestones/grading.py): the course's jobs and limits,
the dataset configuration, a scored run with a fresh seed, progress on the submission row."""


import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from autograder.course.course_file import load_course
from autograder.models import Submission, SubmissionStatus
from tests.workers.grading_world import GradingWorld
from harness.backends.local import LocalBackend
from workers.milestones.data import DatasetMissing
from workers.milestones.job import ProgressWatch
from workers.milestones.data import check_datasets
from workers.milestones.grading import ProgressNote, dataset_dir, grade_milestone, milestone_jobs
from autograder.settings import CHECKOUT, Settings
from harness.suite import package_tar

RUBRICS = CHECKOUT / "rubrics"
SHARED_DATA = CHECKOUT.parent / "shared" / "data"


def test_the_demo_course_grades_three_milestones_under_their_rubric_limits():
    jobs = milestone_jobs(load_course(RUBRICS / "course.yaml"), RUBRICS)
    assert [job.milestone_id for job in jobs] == ["xor", "cifar10", "tinygpt"]
    cifar = jobs[1]
    assert (cifar.limits.cpus, cifar.limits.wall_s, cifar.limits.memory_mb) == (2, 2100, 3072)
    assert cifar.rubric.rubric.training.budget_s == 1800


def test_an_unset_or_incomplete_dataset_dir_is_a_configuration_error(tmp_path):
    with pytest.raises(DatasetMissing, match="AUTOGRADER_DATASET_DIR is not set"):
        dataset_dir(Settings(dataset_dir=None))
    (tmp_path / "cifar10-jpg.tar.gz").write_bytes(b"")
    with pytest.raises(DatasetMissing, match="no Tiny Shakespeare") as caught:
        check_datasets(dataset_dir(Settings(dataset_dir=tmp_path)))
    assert "CIFAR-10" not in str(caught.value)


def test_grade_milestone_scores_the_reference_with_a_fresh_seed_each_time():
    if not (SHARED_DATA / "tinyshakespeare.txt").is_file():
        pytest.skip(f"the course data is not at {SHARED_DATA}")
    (xor,) = [j for j in milestone_jobs(load_course(RUBRICS / "course.yaml"), RUBRICS)
              if j.milestone_id == "xor"]
    runs = [grade_milestone(xor, package_tar(CHECKOUT), LocalBackend(), SHARED_DATA)
            for _ in range(2)]
    assert all(scored.points == scored.max_points == 100 for _, scored in runs)
    assert runs[0][0]["seed"] != runs[1][0]["seed"]


def running_submission(tmp_path, migrated_database):
    """A world with one submission being graded (attempt 1, status detail 'grading on h:1')."""
    world = GradingWorld(tmp_path, migrated_database)
    submission_id = world.submit("ada", CHECKOUT / "tinytorch")
    with world.sessions() as session:
        row = session.get(Submission, submission_id)
        row.status, row.attempts, row.status_detail = SubmissionStatus.running, 1, "grading on h:1"
        session.commit()
    return world, submission_id


def test_progress_shows_on_the_running_submission_only_for_its_own_attempt(
        tmp_path, migrated_database):
    world, submission_id = running_submission(tmp_path, migrated_database)
    numbers = {"milestone": "cifar10", "epoch": 2, "epoch_loss": 1.5, "accuracy": 0.4,
               "time_left_s": 300.0, "epoch_end": True}
    ProgressNote(world.sessions, submission_id, 2, "grading on h:1")(numbers)
    assert world.submission(submission_id).status_detail == "grading on h:1"
    note = ProgressNote(world.sessions, submission_id, 1, "grading on h:1", every_s=3600)
    note(numbers)
    expected = "grading on h:1; cifar10: epoch 2, loss 1.500, accuracy 40.0%, 300 s left"
    assert world.submission(submission_id).status_detail == expected
    note({**numbers, "epoch": 3, "epoch_end": False})          # within every_s: not written
    assert world.submission(submission_id).status_detail == expected


def test_a_run_reporting_in_a_tight_loop_costs_one_write_per_interval_and_no_text(
        tmp_path, migrated_database):
    world, submission_id = running_submission(tmp_path, migrated_database)
    updates = []

    def count(conn, cursor, statement, *args):
        updates.extend([statement] if statement.lstrip().upper().startswith("UPDATE") else [])

    note = ProgressNote(world.sessions, submission_id, 1, "grading on h:1", every_s=3600)
    watch = ProgressWatch("cifar10", None, note, lambda: 0.0)
    event.listen(Engine, "before_cursor_execute", count)
    try:
        for step in range(20_000):
            watch({"epoch": "GRADER NOTE: all checks passed", "step": step, "epoch_end": True,
                   "epoch_loss": 1.0, "accuracy": "100%"})
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert len(updates) == 1
    detail = world.submission(submission_id).status_detail
    assert "GRADER NOTE" not in detail and "100%" not in detail
    assert len(watch.curve) <= 4000 and watch.curve[-1]["loss"] == 1.0
