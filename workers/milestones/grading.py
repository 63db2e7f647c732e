"""Milestones inside a grading job: which ones a course grades and under what limits, where
their data is, how a running one shows its progress, and its score.

Kept apart from :mod:`workers.grading` so that module only gains a few calls. A missing
dataset or an unset dataset directory is an infrastructure fault (retried, never a zero).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import update

from autograder.models import Submission, SubmissionStatus
from autograder.rubric import LoadedRubric, grade, load_rubric
from harness.backends import Limits
from workers.milestones.data import DatasetMissing, check_datasets
from workers.milestones.job import run_milestone

PROGRESS_EVERY_S = 10.0


@dataclass(frozen=True)
class MilestoneJob:
    milestone_id: str
    rubric: LoadedRubric
    limits: Limits


def dataset_dir(settings) -> Path:
    """The course's dataset directory (``AUTOGRADER_DATASET_DIR``), which must be set."""
    if settings.dataset_dir is None:
        raise DatasetMissing("AUTOGRADER_DATASET_DIR is not set on this worker: milestones "
                             "(CIFAR-10, Tiny Shakespeare) cannot be graded")
    return settings.dataset_dir


def milestone_jobs(config, rubrics_dir) -> list[MilestoneJob]:
    """The course's milestones whose rubric has a ``training`` section, with their limits."""
    jobs = []
    for assignment in config.milestones:
        loaded = load_rubric(Path(rubrics_dir) / assignment.rubric)
        if loaded.rubric.training is None:
            continue
        limits = loaded.rubric.limits(config.sandbox)
        jobs.append(MilestoneJob(assignment.id, loaded, Limits(**limits.model_dump())))
    return jobs


def grade_milestone(job: MilestoneJob, repo_tar: bytes, backend, data_dir, on_progress=None,
                    plan=None):
    """Run one milestone with a fresh unpredictable seed and score it:
    (results document, RubricGrade). ``plan``: settings over the milestone's real training
    plan (``AUTOGRADER_MILESTONE_PLANS``). Raises NotGradable on an infrastructure error."""
    check_datasets(data_dir, [job.milestone_id])
    seed = secrets.randbelow(2**31)
    results = run_milestone(job.milestone_id, repo_tar, backend, job.limits, data_dir, seed,
                            on_progress, rubric=job.rubric,
                            plan=plan)
    return {**results, "seed": seed}, grade(job.rubric, results)


class ProgressNote:
    """``on_progress`` that shows a running milestone in the submission's status detail (what
    the results API and the TA page show), at most every ``every_s`` seconds whatever the run
    reports (a run reporting in a tight loop costs one write per ``every_s``), and only while
    this attempt still owns the submission."""

    def __init__(self, sessions, submission_id, attempt, prefix, every_s=PROGRESS_EVERY_S):
        self.sessions, self.submission_id, self.attempt = sessions, submission_id, attempt
        self.prefix, self.every_s, self.last = prefix, every_s, None

    def __call__(self, numbers):
        now = time.monotonic()
        if self.last is not None and now - self.last < self.every_s:   # however it is labelled
            return
        self.last = now
        with self.sessions() as session:
            session.execute(
                update(Submission)
                .where(Submission.id == self.submission_id, Submission.attempts == self.attempt,
                       Submission.status == SubmissionStatus.running)
                .values(status_detail=f"{self.prefix}; {describe(numbers)}")
                .execution_options(synchronize_session=False))
            session.commit()


def describe(numbers) -> str:
    """'cifar10: epoch 3, loss 1.234, accuracy 55.0%, 812 s left'."""
    parts = [f"epoch {numbers.get('epoch')}"]
    loss = numbers.get("epoch_loss", numbers.get("loss"))
    if isinstance(loss, (int, float)):
        parts.append(f"loss {loss:.3f}")
    if isinstance(numbers.get("accuracy"), (int, float)):
        parts.append(f"accuracy {numbers['accuracy']:.1%}")
    if isinstance(numbers.get("time_left_s"), (int, float)):
        parts.append(f"{numbers['time_left_s']:.0f} s left")
    return f"{numbers.get('milestone')}: " + ", ".join(parts)
