"""The pytest plugin behind the checkpoint suites.

It gives checks the ``student`` fixture (and ``reference`` for performance ratios), both
talking to runners through the harness, and records one result per check: outcome, message a
student can act on, trusted-side duration and measured figures.  Registered by
:func:`harness.suite.run_suite`, never by a conftest the student could ship.
"""

import secrets
import zlib

import numpy as np
import pytest

from contract.document import check_result
from harness.backends import BackendUnavailable
from harness.checkpoints.registry import SuiteDefinitionError
from harness.runner_client import Runner, RunnerFailure, RunnerTimeout, StudentError
from harness.checkpoints.facts import sandbox_facts
from harness.student_text import quoted

MAX_MESSAGE = 1500


class StudentSession:
    """What a check sees as ``student``: requests to a runner with a fresh namespace."""

    def __init__(self, runner, figures):
        self.runner, self.figures = runner, figures

    def exec(self, code, timeout=None):
        """Run statements; returns their wall time in seconds (measured on this side)."""
        return self.runner.exec(code, timeout=timeout)

    def eval(self, expr, timeout=None, with_grad=False):
        """The value of an expression as plain data (a Tensor arrives as its ``.data``)."""
        return self.runner.eval(expr, timeout=timeout, with_grad=with_grad)

    def timed_eval(self, expr, timeout=None):
        """``(value, seconds)``: the time covers computing the value and sending it back."""
        return self.runner.timed_eval(expr, timeout=timeout)

    def put(self, name, value, timeout=None):
        """Bind plain data (arrays included) sent from here to ``name`` in the runner."""
        self.runner.put(name, value, timeout=timeout)

    def memory_during(self, action):
        """``(action(), bytes, held)``: the kernel's count of memory the runner took while
        ``action`` talked to it, and of what it held before
        (:meth:`harness.runner_client.Runner.memory_during`)."""
        return self.runner.memory_during(action)

    def restart(self):
        """A fresh runner from here on (memory checks start from a clean process)."""
        self.runner.close()
        self.runner.reset()

    def array(self, expr, timeout=None):
        """Evaluate an expression that must give a Tensor or array; returns the ndarray."""
        value = self.eval(expr, timeout=timeout)
        if type(value) is not np.ndarray:
            raise AssertionError(f"`{expr}` should give a Tensor, got {describe(value)}")
        return value

    def raises(self, code, *type_names):
        """Run ``code`` and require that it raises one of ``type_names`` (or a subclass).

        An error reply is a claim like any other, so a positive control follows: the same
        session must then compute a value only a working runner knows (a runner made to
        answer every request with an error passes no ``raises``)."""
        try:
            self.exec(code)
        except StudentError as exc:
            if not set(type_names) & set(exc.mro):
                raise AssertionError(f"`{code}` should raise {' or '.join(type_names)}, "
                                     f"but raised {exc.type_name}") from None
            self._positive_control(code)
            return exc
        raise AssertionError(f"`{code}` should raise {' or '.join(type_names)}, "
                             "but raised nothing")

    def _positive_control(self, code):
        a, b = (secrets.randbelow(10**9) + 2 for _ in range(2))
        try:
            answer = self.eval(f"{a} * {b}")
        except StudentError:
            answer = None
        if type(answer) is not int or answer != a * b:
            raise AssertionError(f"after `{code}` raised, the runner did not compute a plain "
                                 "product: its errors cannot be told from a broken runner")

    def figure(self, name, value):
        """Record a measured figure (e.g. ``ratio_to_reference``) in the check's result."""
        self.figures[name] = value


def describe(value):
    """A short, safe description of a decoded value for messages."""
    if type(value) is np.ndarray:
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return f"{type(value).__name__} {text[:80]}{'...' if len(text) > 80 else ''}"


def classify(exc):
    """Outcome and message of a check that raised ``exc``."""
    if isinstance(exc, RunnerTimeout):
        return "timeout", str(exc)
    if isinstance(exc, StudentError):
        said = f"{exc.message}\n{exc.traceback}" if exc.traceback else exc.message
        return "failed", f"your code raised {exc.type_name}; its message:\n{quoted(said)}"
    if isinstance(exc, RunnerFailure):
        return "error", str(exc)
    if isinstance(exc, AssertionError):
        return "failed", str(exc)
    if isinstance(exc, pytest.skip.Exception):
        return "error", f"the check did not run: {exc.msg}"
    return "error", f"the check itself failed ({type(exc).__name__}: {exc}); tell the staff"


class CheckpointPlugin:
    def __init__(self, repo_tar, backend, limits, reference_tar=None, call_timeout_s=30.0,
                 on_result=None, student_runner=None, job_seed=None):
        """``job_seed``: the secret behind each check's ``rng`` fixture; a fresh random one
        per run unless given (tests pin it to reproduce a run)."""
        self.backend, self.limits = backend, limits
        self.job_seed = secrets.randbits(63) if job_seed is None else job_seed
        self.tars = {"student": repo_tar, "reference": reference_tar}
        self.call_timeout_s, self.on_result = call_timeout_s, on_result
        self.runners = {} if student_runner is None else {"student": student_runner}
        self.records = {}
        self.results = []
        self.total = 0
        self.infrastructure_error = None
        self.collect_errors = []

    # -- fixtures ---------------------------------------------------------------------
    def _session(self, role, node):
        if self.tars[role] is None:
            raise RunnerFailure("no reference implementation is available here; "
                                "performance checks run on the grader")
        record = self.records[node.nodeid]
        # Hidden checks get a runner of their own: nothing they send (code, inputs) can be
        # kept by the student's code and shown later in a public check's output or message.
        key = role if record["info"].visibility == "public" else f"{role}:hidden"
        if key not in self.runners:
            self.runners[key] = Runner(self.backend, self.limits, self.tars[role],
                                       self.call_timeout_s)
        session = StudentSession(self.runners[key], record["figures"])
        session.runner.reset()
        return session

    @pytest.fixture
    def student(self, request):
        return self._session("student", request.node)

    @pytest.fixture
    def reference(self, request):
        return self._session("reference", request.node)

    @pytest.fixture
    def facts(self):
        """Facts of the sandbox (versions, BLAS, platform, cores) measured by a runner that
        never loaded student code: what module 01's report must say."""
        return sandbox_facts(self.backend, self.limits)

    @pytest.fixture
    def rng(self, request):
        """A NumPy Generator seeded from this job's secret seed and the check's id: inputs
        drawn from it are new in every job, so answers tabled for the public examples (or a
        cache keyed on inputs) score nothing on them."""
        info = self.records[request.node.nodeid]["info"]
        return np.random.default_rng([self.job_seed, zlib.crc32(info.id.encode())])

    # -- hooks ------------------------------------------------------------------------
    def pytest_configure(self, config):
        # The message a student reads is ours (classify); pytest's long traceback with
        # source and locals costs ~90 ms per failed check and nobody reads it.
        config.option.tbstyle = "line"

    def pytest_collection_modifyitems(self, items):
        seen = {}
        for item in items:
            info = getattr(getattr(item, "function", None), "checkpoint", None)
            if info is None:
                raise SuiteDefinitionError(f"{item.nodeid} has no @check(id, description, "
                                           "visibility)")
            if info.id in seen:
                raise SuiteDefinitionError(f"{item.nodeid}: check id {info.id} is already "
                                           f"used by {seen[info.id]}")
            seen[info.id] = item.nodeid
            self.records[item.nodeid] = {"info": info, "outcome": None, "message": "",
                                         "duration_s": 0.0, "figures": {}}
        self.total = len(items)

    def pytest_collectreport(self, report):
        if report.failed:  # a suite file that does not import: the suite's bug, not the student's
            self.collect_errors.append(f"{report.nodeid}: {report.longreprtext[-1000:]}")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        yield
        record = self.records[item.nodeid]
        if call.when == "call":  # setup may include starting a runner: not the check's time
            record["duration_s"] = call.duration
        if call.excinfo is None or record["outcome"] is not None:
            return
        if isinstance(call.excinfo.value, BackendUnavailable):
            self.infrastructure_error = f"the runner could not be started: {call.excinfo.value}"
            item.session.shouldstop = self.infrastructure_error
        record["outcome"], message = classify(call.excinfo.value)
        record["message"] = message[:MAX_MESSAGE]

    def pytest_runtest_logfinish(self, nodeid):
        record = self.records[nodeid]
        info = record["info"]
        result = check_result(info.id, info.description, info.visibility,
                              record["outcome"] or "passed", record["message"],
                              round(record["duration_s"], 4), record["figures"])
        self.results.append(result)
        if self.on_result is not None:
            self.on_result(result, len(self.results), self.total)

    def pytest_sessionfinish(self):
        self.close()

    def close(self):
        for runner in self.runners.values():
            runner.close()

    def peak_memory_mb(self):
        peaks = [runner.peak_memory_bytes for key, runner in self.runners.items()
                 if key.startswith("student") and runner.peak_memory_bytes is not None]
        return round(max(peaks) / 2**20, 1) if peaks else None
