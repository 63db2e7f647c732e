"""A package that never finishes importing, exits while imported, or is refused, is graded
in seconds, not in every module's whole wall clock: one probe per job, and every check then
says why it could not run."""
from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path

import pytest

from autograder.course.stored import course_config
from autograder.models import Outcome, Submission, SubmissionStatus
from workers import grading, import_probe
from harness.backends import Limits
from workers.docker_backend import DockerBackend
from harness.backends.local import LocalBackend
from harness.checkpoints.registry import SUITE_ROOTS
from harness.runner_client import Runner, RepoRefused
from harness.suite import package_tar

HOSTILE = Path(__file__).parents[1] / "sandbox" / "hostile"
LIMITS = Limits(wall_s=60, memory_mb=512, cpus=1.0, pids=32, tmpfs_mb=64)


@pytest.fixture
def quick_probe(monkeypatch):
    monkeypatch.setattr(import_probe, "IMPORT_TIMEOUT_S", 2.0)


def _package(tmp_path, source: str) -> bytes:
    (tmp_path / "tinytorch").mkdir()
    (tmp_path / "tinytorch" / "__init__.py").write_text(source)
    return package_tar(tmp_path)


def probe(repo_tar, backend):
    runner = Runner(backend, LIMITS, repo_tar)
    try:
        return import_probe.import_blocker(runner)
    finally:
        runner.close()


def test_a_hang_at_import_is_named_once(quick_probe):
    outcome, message = probe(package_tar(HOSTILE / "import_loop"), LocalBackend())
    assert outcome == "timeout" and message.startswith("importing your tinytorch did not finish within 2 s")
    assert "left at module level" in message


@pytest.mark.parametrize("source", ["x = 1\n", "raise ValueError('broken on purpose')\n"])
def test_a_package_that_imports_or_raises_goes_to_its_checks(quick_probe, tmp_path, source):
    """An exception at import is each check's to report, at once, with its traceback."""
    assert probe(_package(tmp_path, source), LocalBackend()) is None


def test_a_package_that_exits_at_import_is_named_once(quick_probe, tmp_path):
    outcome, message = probe(_package(tmp_path, "import os\nos._exit(0)\n"), LocalBackend())
    assert outcome == "failed"
    assert message.startswith("your package exited (code 0) while being imported")


def test_a_refused_repo_is_refused_once_per_job(quick_probe, tmp_path):
    """The runner refuses a link out of the repo; no later check starts a sandbox for it."""
    backend = CountingBackend()
    runner = Runner(backend, LIMITS, linked_tar({"tinytorch/__init__.py": ""},
                                                {"tinytorch/up": "../.."}))
    try:
        outcome, message = import_probe.import_blocker(runner)
        assert outcome == "failed" and "symlink escapes the repo" in message
        with pytest.raises(RepoRefused):
            runner.eval("1")
        assert backend.started == 1
    finally:
        runner.close()


def test_the_probe_runs_in_the_docker_sandbox(quick_probe, sandbox_image, no_containers_left):
    backend = DockerBackend(sandbox_image)
    assert "did not finish within 2 s" in probe(package_tar(HOSTILE / "import_loop"), backend)[1]
    assert probe(package_tar(HOSTILE / "busy_loop"), backend) is None


def test_no_check_waits_longer_than_the_probe():
    """Equal outcomes: an import too slow for the probe must be too slow for every check."""
    allowed = [float(n) for root in SUITE_ROOTS for path in root.rglob("test_*.py")
               for n in re.findall(r"timeout=([0-9.]+)", path.read_text())]
    assert allowed and max(allowed) <= import_probe.IMPORT_TIMEOUT_S


def test_every_check_of_every_module_times_out_with_the_reason(world, quick_probe):
    submission_id = world.submit("loop", HOSTILE / "import_loop" / "tinytorch")
    assert grading.grade_submission(submission_id, world.sessions, world.settings(),
                                    LocalBackend()) == SubmissionStatus.graded
    done = world.submission(submission_id)
    assert done.checks and {c.outcome for c in done.checks} == {Outcome.timeout}
    assert all(c.message.startswith("importing your tinytorch did not finish within 2 s")
               for c in done.checks)
    assert done.grades and all(g.points == 0 for g in done.grades)


def linked_tar(files, links):
    """A tar of ``files`` (``{path: text}``) and symlinks (``{path: target}``), in order."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, text in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
        for name, target in links.items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return buf.getvalue()


class CountingBackend(LocalBackend):
    """Counts the sandboxes started (the one thing this test needs to see)."""

    def __init__(self):
        super().__init__()
        self.started = 0

    def start(self, limits):
        self.started += 1
        return super().start(limits)


def test_the_probe_costs_no_extra_sandbox(world, reference_package):
    """The probe's runner is the first module's: grading starts as many sandboxes as the
    module's suite alone does."""
    submission_id = world.submit("ref", reference_package)
    with world.sessions() as session:
        submission = session.get(Submission, submission_id)
        repo_tar = grading.archive_commit(world.repos_dir / submission.repo.path,
                                          submission.commit_sha)
        jobs = grading.module_jobs(course_config(submission.course), world.rubrics_dir)
    alone, probed = CountingBackend(), CountingBackend()
    expected = [grading.grade_module(job, repo_tar, alone) for job in jobs]
    graded = grading.grade_modules(jobs, repo_tar, probed)
    assert probed.started == alone.started > 0
    assert [len(r["checks"]) for r, _ in graded] == [len(r["checks"]) for r, _ in expected]
    assert all(r["infrastructure_error"] is None for r, _ in graded)
