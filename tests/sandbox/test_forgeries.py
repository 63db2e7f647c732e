"""Forged grades, through the Docker sandbox: each forgery scores no more than its honest twin.

The forgeries (tests/sandbox/forgeries.py) reach into the runner from the student's package:
answer "ok" to everything, write frames to the runner's private output channel, replay a
reply to a repeated request, compute a result while its inputs are handed over (before the
clock or the memory window starts), hold a ballast (memory, or page cache) to free inside a
memory window, hide memory from tracemalloc, patch ``platform``/``numpy``, replay a table of
another job's answers.
Every verdict is decided from values the grader computed itself, so none of them pays.
"""

import pytest

from autograder.rubric import grade, load_rubric
from tests.grading.submission_tars import (CHECKOUT, package_files, prepended,
                                           starter_package_files, tar_of)
from deploy.seeded_bugs import SEEDED_BUGS
from tests.sandbox import answer_table, forgeries
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
    return starter_package_files()


@pytest.mark.parametrize("forgery", ["ANSWERS_OK", "WRITES_FRAMES"])
def test_a_runner_that_says_ok_to_everything_earns_nothing(score, starter, forgery,
                                                           no_containers_left):
    # module 02 has value, raises and speed checks; 16 has speed and memory checks
    for module in ("02_tensor", "16_kernels"):
        points, outcomes = score(module, forgeries.forged(starter, getattr(forgeries, forgery)))
        assert points == 0, {k: v for k, v in outcomes.items() if v == "passed"}


def _slow_matmul():
    return forgeries.slow_matmul(package_files())


def _wasteful_softmax():
    return SEEDED_BUGS["16_kernels"]["fused softmax allocates a temporary"].applied_to(
        package_files())


def _wrong_platform():
    return SEEDED_BUGS["01_setup"]["sys.platform as platform"].applied_to(package_files())


def _prepending(forgery):
    return lambda files: forgeries.forged(files, forgery)


WASTEFUL_LINE = "    out[...] = x - x.max(axis=-1, keepdims=True)"
HIDDEN, ALL = ("hidden",), ("public", "hidden")
# name: (the honest twin, which fails ``check``; the forgery made of it; module; check;
# visibilities graded)
FORGERIES = {
    "a reply replayed to a repeated request": (
        _slow_matmul, _prepending(forgeries.REPLAYS_REPLIES), "02_tensor",
        "tensor.matmul.vectorised", HIDDEN),
    "the product computed while the inputs are handed over": (
        _slow_matmul, _prepending(forgeries.COMPUTES_AHEAD), "02_tensor",
        "tensor.matmul.vectorised", HIDDEN),
    "memory hidden from tracemalloc": (
        _wasteful_softmax, _prepending(forgeries.HIDES_MEMORY), "16_kernels",
        "kernels.softmax_fused.memory", HIDDEN),
    "a ballast held before the memory window and freed in it": (
        _wasteful_softmax,
        lambda files: forgeries.with_ballast(files, "tinytorch/perf/kernels.py", WASTEFUL_LINE),
        "16_kernels", "kernels.softmax_fused.memory", HIDDEN),
    "page cache charged before the memory window and dropped in it": (
        _wasteful_softmax,
        lambda files: forgeries.with_ballast(files, "tinytorch/perf/kernels.py", WASTEFUL_LINE,
                                             forgeries.CACHE_BALLAST,
                                             forgeries.MAKES_ROOM_FROM_CACHE),
        "16_kernels", "kernels.softmax_fused.memory", HIDDEN),
    "the temporary taken while the inputs are handed over": (
        _wasteful_softmax, _prepending(forgeries.FILLS_AHEAD), "16_kernels",
        "kernels.softmax_fused.memory", HIDDEN),
    "platform and numpy patched to report what the bug returns": (
        _wrong_platform, _prepending(forgeries.PATCHES_FACTS), "01_setup",
        "setup.report.platform", ALL),
}


@pytest.mark.parametrize("name", FORGERIES)
def test_a_forgery_earns_no_more_than_its_honest_twin(score, name, no_containers_left):
    honest_files, forge, module, check, visibility = FORGERIES[name]
    honest = honest_files()
    honest_points, honest_outcomes = score(module, honest, visibility)
    assert honest_outcomes[check] == "failed"      # the bug the forgery tries to hide
    points, outcomes = score(module, forge(honest), visibility)
    assert outcomes[check] == "failed"
    assert points <= honest_points, (outcomes, honest_outcomes)


def test_an_honest_package_that_imports_more_than_the_reference_keeps_its_memory_marks(
        score, no_containers_left):
    """The charge for memory held before a window must not fall on honest students: a
    package importing PIL and a few standard modules the reference does not (~3 MiB more)."""
    importing = prepended(package_files(), "tinytorch/__init__.py",
                          "import PIL.Image, json, email.message, unittest, decimal, statistics")
    _, outcomes = score("16_kernels", importing, HIDDEN)
    assert outcomes["kernels.softmax_fused.memory"] == "passed"
    _, outcomes = score("09_spatial", importing, HIDDEN)
    assert outcomes["spatial.conv2d.memory"] == "passed"


def test_a_table_of_another_jobs_answers_earns_nothing(score, starter, no_containers_left):
    """The public checks' requests and the reference's replies, recorded in another job and
    replayed by the starter (``answer_table``): inputs drawn per job leave it nothing."""
    table = answer_table.record("02_tensor", job_seed=7)
    points, outcomes = score("02_tensor", answer_table.replaying(starter, table))
    assert table and points == 0, {k: v for k, v in outcomes.items() if v == "passed"}
