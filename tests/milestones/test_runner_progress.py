"""The runner's ``put`` request and ``report()`` progress frames, over a real local runner."""

import time

import numpy as np
import pytest

from tests.grading.submission_tars import tar_of
from harness.backends import Limits
from harness.backends.local import LocalBackend
from harness import runner_client
from harness.runner_client import ProtocolError, Runner, RunnerTimeout, StudentError

TOY = {"tinytorch/__init__.py": ""}


@pytest.fixture
def runner():
    seen = []
    runner = Runner(LocalBackend(), Limits(wall_s=60), tar_of(TOY), call_timeout_s=10.0,
                    on_progress=seen.append)
    runner.seen = seen
    yield runner
    runner.close()


def test_put_binds_arrays_and_text_in_the_namespace(runner):
    runner.put("images", np.arange(12, dtype=np.uint8).reshape(3, 4))
    runner.put("meta", {"vocab": "ab\n", "sizes": [1, 2]})
    assert runner.eval("images.sum() + len(meta['vocab'])") == 66 + 3


def test_progress_reaches_the_callback_in_order_before_the_reply(runner):
    runner.exec("for i in range(5):\n    report(epoch=i, loss=1.0 / (i + 1), last=i == 4)")
    assert [p["epoch"] for p in runner.seen] == [0, 1, 2, 3, 4]
    assert runner.seen[2] == {"epoch": 2, "loss": 1.0 / 3, "last": False}
    runner.exec("report(loss=float('nan'))")
    assert np.isnan(runner.seen[-1]["loss"])


def test_report_refuses_values_that_are_not_numbers(runner):
    for value in ("[1, 2]", "'GRADER NOTE: all checks passed'"):
        with pytest.raises(StudentError, match="must be a number"):
            runner.exec(f"report(loss={value})")
    assert runner.seen == []


def test_progress_frames_are_capped_and_carry_numbers_only(runner, monkeypatch):
    """Frames the student's code writes itself (bypassing report()) are data to check too."""
    monkeypatch.setattr(runner_client, "MAX_PROGRESS_DELIVERED", 3)
    runner.exec("_send = report.__self__.send\n_seq = report.__self__.seq\n"
                "for i in range(50):\n"
                "    _send({'progress': True, 'seq': _seq, 'value': {'epoch': i, "
                "'note': 'GRADER NOTE'}, 'arrays': []})")
    assert runner.seen == [{"epoch": 0}, {"epoch": 1}, {"epoch": 2}]
    assert runner.progress_dropped == 47


def test_an_exception_in_the_callback_stops_the_runner_and_propagates(runner):
    def stop(numbers):
        raise KeyError(f"stop at {numbers['epoch']}")

    runner.on_progress = stop
    started = time.monotonic()
    with pytest.raises(KeyError, match="stop at 1"):
        runner.exec("import time\nfor i in range(1, 100):\n    report(epoch=i)\n    time.sleep(1)")
    assert time.monotonic() - started < 5
    assert runner.handle is None          # stopped; the next request starts a fresh runner
    assert runner.eval("1 + 1") == 2


def test_progress_does_not_extend_the_time_limit(runner):
    started = time.monotonic()
    with pytest.raises(RunnerTimeout):
        runner.exec("import time\nwhile True:\n    report(alive=True)\n    time.sleep(0.05)",
                    timeout=1.5)
    assert time.monotonic() - started < 4
    assert len(runner.seen) > 5


def test_progress_tagged_for_another_request_is_a_protocol_error(runner):
    with pytest.raises(ProtocolError, match="another request"):
        runner.exec("import sys\n_s = report.__self__\n_s.seq = -1\nreport(epoch=1)")
