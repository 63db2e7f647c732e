"""The ``rng`` fixture: inputs drawn per job from a secret seed, reproducible when pinned."""

from tests.grading.submission_tars import CHECKOUT
from harness.suite import run_suite

SUITE = '''
from harness.checkpoints import check


@check("seed.draw", "records a number drawn from the job's rng", "public")
def test_draw(student, rng):
    student.figure("drawn", float(rng.random()))


@check("seed.other", "a second check draws its own stream", "public")
def test_other(student, rng):
    student.figure("drawn", float(rng.random()))
'''


def drawn(backend, suites_dir, job_seed=None):
    result = run_suite("99_seed", CHECKOUT, backend, suites_dir=suites_dir, job_seed=job_seed,
                       reference=None)
    assert result["infrastructure_error"] is None, result["infrastructure_error"]
    return [check["figures"]["drawn"] for check in result["checks"]]


def test_rng_is_fresh_per_job_and_reproducible_under_a_pinned_seed(backend, tmp_path):
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "test_99_seed.py").write_text(SUITE)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    pinned = drawn(backend, tmp_path, job_seed=7)
    assert pinned == drawn(backend, tmp_path, job_seed=7)
    assert pinned[0] != pinned[1]                       # each check has its own stream
    assert drawn(backend, tmp_path) != pinned           # a job without a pinned seed differs
