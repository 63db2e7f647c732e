"""Forged grades, through the Docker sandbox: each forgery scores no more than its honest twin.

The forgeries (tests/sandbox/forgeries.py) reach into the runner from the student's package:
answer "ok" to everything, write frames to the runner's private output channel, replay a
reply to a repeated request, hide memory from tracemalloc, patch ``platform``/``numpy``.
Every verdict is decided from values the grader computed itself, so none of them pays.
"""

import tempfile

import pytest

from autograder.rubric import grade, load_rubric
from autograder.starter import generate_starter
from tests.grading.submission_tars import CHECKOUT, package_files, tar_of
from deploy.seeded_bugs import SEEDED_BUGS
from tests.sandbox import forgeries
from harness.backends import Limits
from workers.docker_backend import DockerBackend
from harness.checkpoints.registry import declared_checks
from harness.suite import run_suite

class Outcome(str):
    """A check's outcome that shows its message when an assertion on it fails."""

    def __new__(cls, outcome, message):
        made = super().__new__(cls, outcome)
        made.message = message
        return made

    def __repr__(self):
        return f"{str(self)!r} ({self.message[:1500]!r})"


LIMITS = Limits(wall_s=600, memory_mb=1024, cpus=1.0, pids=64, tmpfs_mb=64)


@pytest.fixture(scope="module")
def score(sandbox_image):
    """``score(module, files, visibility)``: (points, {check id: outcome}) in the sandbox.
    Checks of another visibility count as failed; a passed check counts its full points
    (a speed check's partial credit wobbles with the machine's load)."""
    backend = DockerBackend(sandbox_image)

    def run(module, files, visibility=("public", "hidden")):
        result = run_suite(module, tar_of(files), backend, LIMITS, visibility=visibility,
                           job_seed=13)
        assert result["infrastructure_error"] is None, result["infrastructure_error"]
        scored = grade(load_rubric(CHECKOUT / "rubrics" / f"{module}.yaml"), result,
                       [c.id for c in declared_checks(module)])
        points = sum(c.max_points for c in scored.checks if c.outcome == "passed")
        return (0 if scored.gated_by else points), {c["id"]: Outcome(c["outcome"], c["message"])
                                                   for c in result["checks"]}
    return run


@pytest.fixture(scope="module")
def starter():
    with tempfile.TemporaryDirectory() as tmp:
        return package_files(generate_starter(f"{tmp}/repo"))


@pytest.mark.parametrize("forgery", ["ANSWERS_OK", "WRITES_FRAMES"])
def test_a_runner_that_says_ok_to_everything_earns_nothing(score, starter, forgery,
                                                           no_containers_left):
    # module 02 has value, raises and speed checks; 16 has speed and memory checks
    for module in ("02_tensor", "16_kernels"):
        points, outcomes = score(module, forgeries.forged(starter, getattr(forgeries, forgery)))
        assert points == 0, {k: v for k, v in outcomes.items() if v == "passed"}


def test_a_replayed_reply_does_not_make_a_slow_matmul_fast(score, no_containers_left):
    slow = forgeries.slow_matmul(package_files())
    honest, honest_outcomes = score("02_tensor", slow, ("hidden",))
    points, outcomes = score("02_tensor", forgeries.forged(slow, forgeries.REPLAYS_REPLIES),
                             ("hidden",))
    assert outcomes["tensor.matmul.vectorised"] == "failed"
    assert points <= honest, (outcomes, honest_outcomes)


def test_hiding_memory_from_tracemalloc_does_not_hide_a_temporary(score, no_containers_left):
    wasteful = SEEDED_BUGS["16_kernels"]["fused softmax allocates a temporary"].applied_to(
        package_files())
    honest, honest_outcomes = score("16_kernels", wasteful, ("hidden",))
    points, outcomes = score("16_kernels", forgeries.forged(wasteful, forgeries.HIDES_MEMORY),
                             ("hidden",))
    assert outcomes["kernels.softmax_fused.memory"] == "failed"
    assert points <= honest, (outcomes, honest_outcomes)


def test_patching_platform_and_numpy_does_not_make_a_wrong_report_right(score,
                                                                        no_containers_left):
    buggy = SEEDED_BUGS["01_setup"]["sys.platform as platform"].applied_to(package_files())
    honest, honest_outcomes = score("01_setup", buggy)
    points, outcomes = score("01_setup", forgeries.forged(buggy, forgeries.PATCHES_FACTS))
    assert outcomes["setup.report.platform"] == "failed"
    assert points <= honest, (outcomes, honest_outcomes)
