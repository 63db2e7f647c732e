"""grade_submission in this process (no Celery): retries replace, duplicates do nothing,
faults are recorded, never as zeros.  Scores through Celery and Docker: test_celery.py."""

import shutil

import pytest
from sqlalchemy import text

from autograder.models import SubmissionStatus
from tests.workers.grading_world import assert_all_pass
from workers import grading
from workers.docker_backend import DockerBackend
from workers.milestones.grading import MilestoneJob
from harness.backends import Limits
from harness.backends.local import LocalBackend


def test_a_regrade_replaces_and_a_duplicate_does_nothing(world, reference_package):
    settings, backend = world.settings(), LocalBackend()
    submission_id = world.submit("ref", reference_package)
    assert grading.grade_submission(submission_id, world.sessions, settings,
                                    backend) == SubmissionStatus.graded
    first = world.submission(submission_id)
    assert first.attempts == 1
    assert_all_pass(first)
    assert grading.grade_submission(submission_id, world.sessions, settings,
                                    backend) is None   # a second delivery
    world.requeue(submission_id)
    assert grading.grade_submission(submission_id, world.sessions, settings, backend)
    again = world.submission(submission_id)
    assert again.attempts == 2 and len(again.grades) == 1
    assert sorted(c.check_id for c in again.checks) == sorted(c.check_id for c in first.checks)


def test_a_commit_without_tinytorch_is_a_result_not_a_fault(world, reference_package):
    submission_id = world.submit("lost", reference_package, folder="src")
    assert grading.grade_submission(submission_id, world.sessions, world.settings(),
                                    LocalBackend()) == SubmissionStatus.failed
    failed = world.submission(submission_id)
    assert "has no tinytorch/ folder" in failed.status_detail and failed.grades == []


def test_docker_down_is_an_infra_error_not_a_zero(world, reference_package, tmp_path,
                                                  monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    submission_id = world.submit("ref", reference_package)
    with pytest.raises(grading.InfrastructureFault, match="Docker is not available"):
        grading.grade_submission(submission_id, world.sessions, world.settings(),
                                 DockerBackend())
    faulted = world.submission(submission_id)
    assert faulted.status == SubmissionStatus.infra_error
    assert "Docker is not available" in faulted.status_detail
    assert faulted.grades == [] and faulted.checks == []


def test_missing_repository_is_an_infra_error(world, reference_package):
    submission_id = world.submit("ref", reference_package)
    shutil.rmtree(world.repos_dir)
    with pytest.raises(grading.InfrastructureFault, match="is missing"):
        grading.grade_submission(submission_id, world.sessions, world.settings(),
                                 LocalBackend())
    assert world.submission(submission_id).status == SubmissionStatus.infra_error


def test_modules_that_cannot_fit_the_task_time_limit_are_a_configuration_fault(
        world, reference_package):
    submission_id = world.submit("ref", reference_package)
    # 02_tensor allows 120 s a run, and isolation (best_of) may run its suite twice
    settings = world.settings(task_soft_limit_s=180)
    with pytest.raises(grading.InfrastructureFault, match="240 s together .120 s of it the "
                                                          "second runs of isolation"):
        grading.grade_submission(submission_id, world.sessions, settings, LocalBackend())
    assert world.submission(submission_id).status == SubmissionStatus.infra_error


def test_the_time_budget_counts_a_second_run_for_best_of_only():
    def module(wall_s, isolation):
        return grading.ModuleJob("02_tensor", None, Limits(wall_s=wall_s), isolation)

    modules = [module(100, "best_of"), module(50, "own"), module(30, "reference")]
    milestones = [MilestoneJob("xor", None, Limits(wall_s=20))]
    grading.check_time_budget(modules, milestones, 300)      # 2 * 100 + 50 + 30 + 20
    with pytest.raises(grading.InfrastructureFault, match=r"300 s together \(100 s of it"):
        grading.check_time_budget(modules, milestones, 299)
    with pytest.raises(ValueError, match="isolation 'twice'"):
        grading.check_time_budget([module(1, "twice")], [], 300)


def test_a_database_fault_at_the_claim_leaves_the_job_queued_for_a_retry(
        world, reference_package):
    """A locked or failing database when the job starts must not drop it: the submission
    stays queued, untouched, and the fault is raised for the task to retry."""
    submission_id = world.submit("ref", reference_package)
    with world.sessions() as session:
        session.execute(text("CREATE TRIGGER refuse BEFORE UPDATE ON submissions "
                             "BEGIN SELECT RAISE(ABORT, 'database is locked'); END"))
        session.commit()
    with pytest.raises(grading.InfrastructureFault, match="database could not be used: "
                                                         "database is locked"):
        grading.grade_submission(submission_id, world.sessions, world.settings(),
                                 LocalBackend())
    waiting = world.submission(submission_id)
    assert (waiting.status, waiting.attempts) == (SubmissionStatus.queued, 0)
    with world.sessions() as session:
        session.execute(text("DROP TRIGGER refuse"))
        session.commit()
    assert grading.grade_submission(submission_id, world.sessions, world.settings(),
                                    LocalBackend()) == SubmissionStatus.graded
