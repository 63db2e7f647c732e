"""Run one module's checkpoint suite against a repo and return the suite results document.

pytest runs here, in the trusted process, over trusted suite files; the student's code only
ever runs in the runner the backend starts.  See docs/ARCHITECTURE.md for the document.
"""

import contextlib
import io
import os
import tarfile
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from contract.document import check_result, results_document
from harness.backends import Limits
from harness.checkpoints.plugin import CheckpointPlugin
from harness.checkpoints.registry import (SUITE_ROOTS, VISIBILITIES, declared_checks, suite_files,
                                          suite_roots, suites_rootdir)

REFERENCE_ROOT = Path(__file__).resolve().parent.parent   # the checkout holding tinytorch/
_SKIP_DIRS = {"__pycache__", ".git"}


def package_tar(root, package="tinytorch"):
    """Tar (bytes) of ``root/package`` only: all the runner needs, never a whole home dir."""
    source = Path(root) / package
    if not source.is_dir():
        raise FileNotFoundError(f"{source} is not a directory: no {package}/ package to grade")

    def keep(info):
        parts = Path(info.name).parts
        if _SKIP_DIRS & set(parts) or info.name.endswith(".pyc"):
            return None
        return info

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(source, arcname=package, filter=keep)
    return buf.getvalue()


def repo_bytes(repo):
    """Accept tar bytes, a path to a .tar file, or a repo directory."""
    if isinstance(repo, (bytes, bytearray)):
        return bytes(repo)
    path = Path(repo)
    return package_tar(path) if path.is_dir() else path.read_bytes()


def run_suite(module_id, repo, backend, limits=Limits(), *, visibility=VISIBILITIES,
              reference=REFERENCE_ROOT, call_timeout_s=30.0, on_result=None,
              suites_dir=SUITE_ROOTS, student_runner=None, job_seed=None, stop_at_first=False,
              deselect=()):
    """Run ``module_id``'s checks of the given visibilities; returns the results dict.

    ``reference`` is a checkout whose ``tinytorch/`` is the yardstick for performance checks
    (``None`` where there is none, e.g. in a student's starter repo).  ``on_result(result,
    done, total)`` is called after every check, for progress displays.  ``student_runner``:
    one already started on ``repo`` with ``limits`` (closed here with the others).
    ``job_seed``: the secret behind the checks' ``rng`` fixture (random unless given).
    ``stop_at_first``: stop at the first check that does not pass, and ``deselect``: pytest
    node ids (``public/test_02_tensor.py::test_add``) not to run; both for mutation testing,
    which only needs to know whether some check fails.
    """
    files = suite_files(module_id, visibility, suites_dir)
    if not files:
        raise ValueError(f"no checkpoint suite for module {module_id!r} "
                         f"({'/'.join(visibility)}) in {suites_dir}")
    plugin = CheckpointPlugin(repo_bytes(repo), backend, limits,
                              package_tar(reference) if reference else None,
                              call_timeout_s, on_result, student_runner, job_seed)
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    began = time.monotonic()
    declared_checks(module_id, visibility, suites_dir)   # a malformed suite fails loudly here
    config_dir = suite_roots(suites_dir)[0]
    try:
        with _plugin_autoload_disabled():
            code = pytest.main([*map(str, files), "-p", "no:cacheprovider", "-p", "no:terminal",
                                "--capture=no", "--import-mode=importlib", "-o", "addopts=",
                                "--rootdir", str(suites_rootdir(suites_dir)),
                                "--confcutdir", str(config_dir),
                                "-c", str(config_dir / "pytest.ini"),
                                *(["-x"] if stop_at_first else []),
                                *(f"--deselect={node}" for node in deselect)],
                               plugins=[plugin])
    finally:
        plugin.close()
    error = plugin.infrastructure_error
    if error is None and (plugin.collect_errors or code not in (pytest.ExitCode.OK,
                                                                 pytest.ExitCode.TESTS_FAILED)):
        error = (f"the checkpoint suite could not run (pytest exit code {int(code)}): "
                 + "; ".join(plugin.collect_errors))
    return _results(module_id, backend, started_at, round(time.monotonic() - began, 3), error,
                    [] if error else plugin.results, plugin.peak_memory_mb())


def unrun_suite(module_id, backend, outcome, message, *, visibility=VISIBILITIES,
                suites_dir=SUITE_ROOTS):
    """The results of a suite that could not run for a reason of the student's (e.g. their
    package never finishes importing): every declared check, with ``outcome`` and
    ``message``."""
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    checks = [check_result(info.id, info.description, info.visibility, outcome, message)
              for info in declared_checks(module_id, visibility, suites_dir)]
    return _results(module_id, backend, started_at, 0.0, None, checks, None)


def _results(module_id, backend, started_at, duration_s, error, checks, peak_mb):
    return results_document(module_id, "harness/checkpoints", backend.name, started_at,
                            duration_s, error, checks, peak_mb)


@contextlib.contextmanager
def _plugin_autoload_disabled():
    """Only our plugin and pytest's own: no installed plugin sees or changes the results."""
    old = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        yield
    finally:
        if old is None:
            del os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = old
