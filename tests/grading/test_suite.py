"""Whole-suite runs of module 02: results document, seeded bugs, tampering, timeouts, infrastructure.

Reference 100%, starter 0 and progressive marks for every module: test_suites_every_module.py.
"""

import sys
import time

import pytest

from tests.grading.submission_tars import CHECKOUT, patched, prepended, tar_of
from sandbox import wire
from harness.backends import BackendUnavailable, Limits
from harness.suite import run_suite

TENSOR = "tinytorch/core/tensor.py"
INIT = "tinytorch/__init__.py"


def score(result):
    assert result["infrastructure_error"] is None, result["infrastructure_error"]
    return sum(c["outcome"] == "passed" for c in result["checks"]) / len(result["checks"])


def run(files, backend, **kwargs):
    return run_suite("02_tensor", tar_of(files), backend, **kwargs)


def test_results_document_carries_visibility_figures_and_memory(backend):
    result = run_suite("02_tensor", CHECKOUT, backend)
    assert {c["visibility"] for c in result["checks"]} == {"public", "hidden"}
    perf = next(c for c in result["checks"] if c["id"] == "tensor.matmul.vectorised")
    assert 0 < perf["figures"]["ratio_to_reference"] < 5
    assert result["backend"] == "local" and result["peak_mb"] > 0
    assert set(result) >= {"module", "suite", "started_at", "duration_s",
                           "infrastructure_error", "checks"}


SEEDED_BUGS = {   # name: (reference text, buggy text, a check that must catch it)
    "subtraction reversed": ("self.data - other.data", "other.data - self.data",
                             "tensor.arith.elementwise"),
    "float64 kept": ("np.asarray(data, dtype=_FLOAT if dtype is None else dtype)",
                     "np.asarray(data)", "tensor.create.float32"),
    "keepdims ignored": ("np.sum(self.data, axis=axis, keepdims=keepdims)",
                         "np.sum(self.data, axis=axis)", "tensor.sum.axis"),
    "max starts from 0": ("np.max(self.data, axis=axis, keepdims=keepdims)",
                          "np.max(np.maximum(self.data, 0), axis=axis, keepdims=keepdims)",
                          "tensor.max.all_negative"),
    "transpose reverses all axes": ("np.swapaxes(self.data, dim0, dim1)", "self.data.T",
                                    "tensor.transpose.dims"),
    "matmul with loops": ("np.matmul(self.data, other.data)",
                          "np.array([[np.dot(row, col) for col in np.swapaxes(other.data, -1, -2)]"
                          " for row in self.data]) if self.ndim == 2 else "
                          "np.matmul(self.data, other.data)", "tensor.matmul.vectorised"),
    "matmul with np.dot (not batched on both sides)": ("np.matmul(self.data, other.data)",
                                                       "np.dot(self.data, other.data)",
                                                       "tensor.matmul.shapes"),
    "float64 leaks out of sqrt": ("np.sqrt(self.data)", "np.sqrt(self.data.astype(np.float64))",
                                  "tensor.dtype.kept"),
}


@pytest.mark.parametrize("bug", sorted(SEEDED_BUGS))
def test_seeded_bugs_are_each_caught_by_a_check(backend, reference_files, bug):
    old, new, catcher = SEEDED_BUGS[bug]
    result = run(patched(reference_files, TENSOR, old, new), backend, call_timeout_s=10)
    outcomes = {c["id"]: c["outcome"] for c in result["checks"]}
    assert outcomes[catcher] == "failed"


FORGED = wire.encode_frame({"ok": True, "value": True})
TAMPERING = {
    "replaces numpy.testing": (
        "import numpy, numpy.testing\n"
        "numpy.testing.assert_allclose = lambda *a, **k: None\n"
        "numpy.allclose = lambda *a, **k: True\nnumpy.array_equal = lambda *a, **k: True\n"),
    "patches pytest": (
        "import sys, types\nfake = types.ModuleType('pytest')\nfake.fail = lambda *a, **k: None\n"
        "sys.modules['pytest'] = fake\nsys.modules['_pytest'] = fake\n"),
    "prints frames": (
        "import os, sys\nprint('{\"ok\": true, \"outcome\": \"passed\", \"score\": 100}')\n"
        f"os.write(1, {FORGED!r} * 50)\n"
        f"for fd in range(3, 20):\n    try: os.write(fd, {FORGED!r})\n    except OSError: pass\n"),
    "sys.exit at import": "import sys\nsys.exit(0)\n",
    "os._exit at import": "import os\nos._exit(0)\n",
    "lying objects": (
        "import numpy as _np\n"
        "class _Liar(_np.ndarray):\n    def __eq__(self, other): return True\n"
        "    __class__ = property(lambda self: _np.ndarray)\n"
        "import tinytorch.core.tensor as _t\n"
        "_t.Tensor.data = property(lambda self: _np.zeros(1).view(_Liar), lambda self, v: None)\n"),
}


@pytest.fixture(scope="module")
def partial_submission(reference_files):
    """A submission that fails some checks, so tampering has something to gain."""
    return patched(reference_files, TENSOR, *SEEDED_BUGS["subtraction reversed"][:2])


@pytest.fixture(scope="module")
def partial_score(partial_submission):
    from harness.backends.local import LocalBackend
    value = score(run(partial_submission, LocalBackend(), visibility=("public",)))
    assert 0 < value < 1
    return value


@pytest.mark.parametrize("trick", sorted(TAMPERING))
def test_tampering_never_raises_the_score(backend, partial_submission, partial_score, trick):
    tampered = prepended(partial_submission, INIT, TAMPERING[trick])
    if trick == "lying objects":   # must run after tensor.py can be imported
        tampered = {**partial_submission, INIT: partial_submission[INIT] + TAMPERING[trick]}
    tampered["conftest.py"] = "import pytest\npytest.fail = None\n"
    result = run(tampered, backend, call_timeout_s=5, visibility=("public",))
    if trick in ("replaces numpy.testing", "patches pytest"):
        assert score(result) == partial_score   # nothing on the trusted side changed
    else:
        assert score(result) <= partial_score


def test_a_hanging_import_times_out_within_the_job_wall_clock(backend, reference_files):
    hanging = prepended(reference_files, INIT, "while True:\n    pass\n")
    started = time.monotonic()
    result = run(hanging, backend, limits=Limits(wall_s=3.0), call_timeout_s=1.0)
    assert time.monotonic() - started < 15
    assert {c["outcome"] for c in result["checks"]} == {"timeout"}
    assert any("wall-clock limit" in c["message"] for c in result["checks"])


class DockerDown:
    name = "docker"

    def start(self, limits):
        raise BackendUnavailable("Cannot connect to the Docker daemon")


def test_an_unavailable_backend_is_an_infrastructure_error_not_a_zero(reference_files):
    result = run(reference_files, DockerDown())
    assert "Docker daemon" in result["infrastructure_error"]
    assert result["checks"] == []


def test_the_trusted_process_never_imports_the_submission(backend, reference_files):
    canary = "tinytorch_submission_canary_4711"
    files = {**reference_files, f"{canary}.py": "VALUE = 1\n",
             INIT: reference_files[INIT] + f"import {canary}\n"}
    result = run(files, backend, visibility=("public",))
    assert score(result) == 1                       # the runner did import it ...
    assert not any(canary in name for name in sys.modules)   # ... this process never did
