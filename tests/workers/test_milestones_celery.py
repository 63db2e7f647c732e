"""Milestones through the deployed path: Redis, a real Celery worker, the Docker sandbox.
All three, XOR at full size, CIFAR-10 and TinyGPT on tiny slices (AUTOGRADER_MILESTONE_PLANS):
this proves the path and what is stored; how well the reference learns on larger slices, and
every failure mode, is tested in tests/milestones/test_graded_milestones.py."""

import json
import math
import os
import shutil
import subprocess
import sys

import pytest

from autograder.course.stored import store_rubrics, validate_course_file
from autograder.models import Course, SubmissionStatus
from autograder.queue import enqueue
from tests.milestones.datasets import CIFAR_PLAN, GPT_PLAN, build_course_data
from tests.sandbox.docker_fixtures import wait_for
from tests.workers.grading_world import MODULE
from autograder.settings import CHECKOUT

DONE = (SubmissionStatus.graded, SubmissionStatus.failed, SubmissionStatus.infra_error)
MILESTONES = ("xor", "cifar10", "tinygpt")
DEADLINE = "'2099-01-01T00:00:00+00:00'"


def grade_milestones_too(world):
    """Make the world's course grade the three milestones as well as its module."""
    lines = ["milestones:"]
    for name in MILESTONES:
        shutil.copyfile(CHECKOUT / "rubrics" / f"{name}.yaml", world.rubrics_dir / f"{name}.yaml")
        lines.append(f"  - {{id: {name}, title: {name}, points: 10, deadline: {DEADLINE}, "
                     f"rubric: {name}.yaml}}")
    course_file = world.rubrics_dir / "course.yaml"
    course_file.write_text(course_file.read_text() + "\n".join(lines) + "\n")
    with world.sessions() as session:        # what `autograder course update` stores
        course = session.get(Course, world.course_id)
        checked = validate_course_file(session, course_file, course)
        course.config_yaml = checked.text
        store_rubrics(session, course, checked.rubrics)
        session.commit()


def test_reference_passes_the_three_milestones_through_celery_and_docker(
        world, start_worker, redis_server, reference_package, tmp_path):
    grade_milestones_too(world)
    data = build_course_data(tmp_path / "course-data")
    plans = {"cifar10": {**CIFAR_PLAN, "epochs": 2, "train_limit": 400, "eval_limit": 200,
                         "blas_threads": 1},
             "tinygpt": {**GPT_PLAN, "budget_s": 3, "eval_windows": 100}}
    start_worker(AUTOGRADER_DATASET_DIR=str(data), AUTOGRADER_MILESTONE_PLANS=json.dumps(plans),
                 AUTOGRADER_TASK_SOFT_LIMIT_S="7200")   # wall clocks: 3660 s, isolation included
    submission_id = world.submit("ref", reference_package)
    assert enqueue([submission_id], redis_server.url)
    graded = wait_for(lambda: (s := world.submission(submission_id)).status in DONE and s,
                      300, "the submission to be graded")
    assert graded.status == SubmissionStatus.graded, graded.status_detail
    grades = {g.module: g for g in graded.grades}
    assert set(grades) == {MODULE, *MILESTONES}
    assert grades["xor"].points == grades["xor"].max_points == 100
    checks = {c.check_id: c for c in graded.checks}
    assert checks["xor.accuracy"].figures["test_accuracy"] == 1.0
    assert checks["xor.accuracy"].figures["curve_png"]
    cifar = checks["cifar10.test_accuracy"]
    assert cifar.outcome.value == "passed", cifar.message
    assert cifar.message.endswith("on 200 evaluation inputs")
    assert checks["cifar10.completes"].outcome.value == "passed"
    assert [p["epoch"] for p in cifar.figures["curve"]] == [1, 2]
    assert cifar.figures["peak_mb"] > 50 and cifar.figures["wall_s"] > 0
    credit = min(1, max(0, (cifar.figures["test_accuracy"] - 0.25) / 0.5))   # the rubric's scale
    assert grades["cifar10"].points == pytest.approx(100 * credit)
    gpt = checks["tinygpt.val_loss"]
    assert gpt.outcome.value == "passed" and gpt.figures["val_loss"] < math.log(65)
    assert len(checks["tinygpt.sample"].figures["sample"]) == 61


def test_a_worker_whose_dataset_dir_lacks_the_data_refuses_to_start(
        world, redis_server, tmp_path):
    empty = tmp_path / "no-data"
    empty.mkdir()
    env = {**os.environ, **world.env(AUTOGRADER_BROKER_URL=redis_server.url,
                                     AUTOGRADER_DATASET_DIR=str(empty)),
           "PYTHONPATH": str(CHECKOUT)}
    done = subprocess.run([sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker",
                           "--concurrency", "1", "--without-gossip", "--without-mingle"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90)
    assert done.returncode != 0
    assert "no CIFAR-10" in done.stderr and "no Tiny Shakespeare" in done.stderr, done.stderr
