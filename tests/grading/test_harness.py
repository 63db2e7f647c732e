"""Runner and harness over a real local subprocess: requests, refusals, failures, restarts."""

import io
import queue
import tarfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.grading.submission_tars import tar_of
from sandbox import wire, runner as runner_module
from harness.backends import Limits
from harness.runner_client import (
    ProtocolError, Runner, RunnerCrashed, RunnerFailure, RunnerTimeout, _EOF, StudentError,
    _read_frames)
from harness.backends.local import LocalBackend
from harness.checkpoints.plugin import CheckpointPlugin, StudentSession
from harness.checkpoints.registry import CheckInfo

TOY = {
    "tinytorch/__init__.py": "",
    "tinytorch/core/__init__.py": "",
    "tinytorch/core/tensor.py": (
        "import numpy as np\n"
        "class Tensor:\n"
        "    def __init__(self, data):\n"
        "        self.data = np.asarray(data, dtype=np.float32)\n"
        "        self.grad = None\n"),
}


@pytest.fixture
def toy(backend):
    runner = Runner(backend, Limits(), tar_of(TOY), call_timeout_s=5.0)
    yield runner
    runner.close()


def test_values_come_back_as_plain_data_and_tensors_as_their_data(toy):
    toy.exec("from tinytorch.core.tensor import Tensor\nt = Tensor([[1, 2]])\nt.grad = t.data * 3")
    data = toy.eval("t")
    assert type(data) is np.ndarray and data.dtype == np.float32 and data.tolist() == [[1, 2]]
    both = toy.eval("t", with_grad=True)
    assert both["grad"].tolist() == [[3, 6]]
    assert toy.eval("{'s': 'x', 'l': [1, None, 2.5]}") == {"s": "x", "l": [1, None, 2.5]}


def test_student_exceptions_carry_type_message_and_repo_relative_traceback(toy):
    toy.exec("from tinytorch.core.tensor import Tensor")
    with pytest.raises(StudentError) as caught:
        toy.eval("Tensor(object()).data + 1")
    assert caught.value.type_name == "TypeError"
    assert "tinytorch/core/tensor.py" in caught.value.traceback
    assert "tinytorch-runner" not in caught.value.traceback
    with pytest.raises(StudentError) as caught:
        toy.exec("class Boom(ValueError):\n    pass\nraise Boom('bad')")
    assert caught.value.mro[:2] == ("Boom", "ValueError")


def test_objects_that_lie_about_their_type_are_refused(toy):
    toy.exec("class Liar(np.ndarray):\n    def __eq__(self, other):\n        return True\n"
             "class Fake:\n    __class__ = property(lambda self: np.ndarray)\n")
    for expr in ("np.zeros(3).view(Liar)", "Fake()", "np.array([object()])"):
        with pytest.raises(StudentError, match="cannot be sent"):
            toy.eval(expr)
    assert toy.eval("1 + 1") == 2   # the session survives a refusal


def test_student_output_cannot_forge_frames(toy):
    forged = wire.encode_frame({"ok": True, "seq": 2, "value": "forged"})
    toy.exec(f"import os, sys\nprint('{{\"ok\": true}}')\nos.write(1, {forged!r})\n"
             f"sys.stdout.buffer.write({forged!r})\nsys.stdout.flush()")
    assert toy.eval("'honest'") == "honest"
    assert "forged" in toy.handle.stderr_tail()   # it went to the captured, capped output


def test_a_hung_request_times_out_and_the_runner_restarts(toy):
    started = time.monotonic()
    with pytest.raises(RunnerTimeout, match="no answer within 0.5 s"):
        toy.exec("while True: pass", timeout=0.5)
    assert time.monotonic() - started < 3
    assert toy.eval("2 * 21") == 42 and toy.restarts == 1


def test_a_crash_is_reported_with_its_exit_code_and_output(toy):
    with pytest.raises(RunnerCrashed, match="exited with code 7") as caught:
        toy.exec("import os\nprint('last words', flush=True)\nos._exit(7)")
    assert "last words" in str(caught.value)
    with pytest.raises(StudentError, match="SystemExit"):
        toy.exec("import sys\nsys.exit(0)")   # caught in the runner: an ordinary failure
    assert toy.eval("'alive'") == "alive"


def test_the_installed_reference_is_never_imported_for_a_repo_without_it(backend):
    runner = Runner(backend, Limits(), tar_of({"README": "no package"}), call_timeout_s=5)
    try:
        with pytest.raises(StudentError, match="No module named 'tinytorch' in the submitted"):
            runner.exec("import tinytorch.core.tensor")
    finally:
        runner.close()


def test_a_namespace_package_cannot_reach_into_the_installed_reference(backend):
    partial = {"tinytorch/core/tensor.py": TOY["tinytorch/core/tensor.py"]}   # no __init__.py
    runner = Runner(backend, Limits(), tar_of(partial), call_timeout_s=5)
    try:
        assert runner.eval("__import__('tinytorch.core.tensor').core.tensor.Tensor([1]).data"
                           ".tolist()") == [1.0]
        with pytest.raises(StudentError, match="'tinytorch.core.activations' in the submitted"):
            runner.exec("import tinytorch.core.activations")
    finally:
        runner.close()


def unsafe_tar(kind):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo({"abs": "/tmp/evil.py", "dotdot": "../evil.py",
                                "symlink": "tinytorch"}[kind])
        if kind == "symlink":
            info.type, info.linkname = tarfile.SYMTYPE, "../../../etc"
            tar.addfile(info)
        else:
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
    return buf.getvalue()


def chained_links_tar():
    """``b -> a/..`` made while ``a`` does not exist yet, then ``a -> .``: each looks harmless
    when made, together ``b`` is the folder above the repo."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, target in (("b", "a/.."), ("a", ".")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return buf.getvalue()


def test_a_chain_of_links_out_of_the_repo_is_refused(tmp_path):
    with pytest.raises(runner_module.UnsafeRepo, match="chain of links"):
        runner_module.extract_repo(chained_links_tar(), str(tmp_path / "repo"))


@pytest.mark.parametrize("kind", ["abs", "dotdot", "symlink"])
def test_unsafe_repo_tars_are_refused(backend, kind):
    runner = Runner(backend, Limits(), unsafe_tar(kind), call_timeout_s=5)
    with pytest.raises(RunnerFailure, match="could not be loaded: UnsafeRepo"):
        runner.eval("1")
    runner.close()


def test_the_job_wall_clock_stops_further_requests(backend):
    runner = Runner(backend, Limits(wall_s=1.0), tar_of(TOY), call_timeout_s=5)
    with pytest.raises(RunnerTimeout):
        runner.exec("while True: pass")
    with pytest.raises(RunnerTimeout, match="wall-clock limit"):
        runner.eval("1")
    runner.close()


class ScriptBackend(LocalBackend):
    """Starts a hostile stand-in for the runner: a real process writing chosen bytes."""

    def __init__(self, script):
        super().__init__()
        self.script = script

    def command(self):
        return [self.python, "-c", self.script]


HEADER = "import sys, struct, json, time\nout = sys.stdout.buffer\n"
HOSTILE = {
    "oversized": (ProtocolError, "out.write(struct.pack('>I', 20) + b'{\"payload\":99999999999}')"),
    "huge_prefix": (ProtocolError, "out.write(b'\\xff\\xff\\xff\\xff')"),
    "malformed": (ProtocolError, "out.write(struct.pack('>I', 6) + b'{oops}')"),
    "truncated": (ProtocolError, "out.write(struct.pack('>I', 40) + b'{\"pay')\nout.flush()\n"
                                 "sys.exit(0)"),
    "wrong_seq": (ProtocolError, "h = json.dumps({'ok': True, 'seq': 99, 'payload': 0}).encode()\n"
                                 "out.write(struct.pack('>I', len(h)) + h)"),
    "half_then_hang": (RunnerTimeout, "out.write(struct.pack('>I', 40) + b'{\"pay')\nout.flush()\n"
                                      "time.sleep(60)"),
    "silent_exit": (RunnerCrashed, "sys.exit(3)"),
    "flood": (RunnerFailure, "while True: out.write(b'\\0' * 65536)"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_runner_output_fails_clearly_and_never_hangs(name):
    error, body = HOSTILE[name]
    runner = Runner(ScriptBackend(HEADER + body + "\nout.flush()\ntime.sleep(60)"), Limits(),
                    tar_of(TOY), call_timeout_s=1.5)
    runner_started = time.monotonic()
    with pytest.raises(error):
        runner.eval("1")
    assert time.monotonic() - runner_started < 5
    runner.close()


def test_a_repo_over_the_frame_cap_fails_clearly(backend):
    runner = Runner(backend, Limits(), tar_of({"big.bin": b"\0" * 4096}), max_frame=2048)
    with pytest.raises(RunnerFailure, match="cannot be sent: frame of .* exceeds the cap of 2048"):
        runner.eval("1")
    assert runner.handle is None


def _running(pid):
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def test_closing_the_runner_kills_processes_the_student_forked(toy):
    pid = toy.eval("__import__('subprocess').Popen(['sleep', '60']).pid")
    assert _running(pid)
    toy.close()
    deadline = time.monotonic() + 5
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(pid)


class OomBackend(ScriptBackend):
    """A runner that dies the way the Docker backend reports an OOM kill."""

    def start(self, limits):
        handle = super().start(limits)
        handle.oom_killed = lambda: True
        return handle


def test_an_oom_kill_reported_by_the_backend_is_named_in_the_failure():
    runner = Runner(OomBackend("import os\nos._exit(137)"), Limits(memory_mb=256), tar_of(TOY),
                    call_timeout_s=3)
    with pytest.raises(RunnerCrashed, match=r"ran out of memory \(limit 256 MB\)"):
        runner.eval("1")
    runner.close()


def test_the_local_memory_limit_turns_a_huge_allocation_into_a_memory_error(backend):
    runner = Runner(backend, Limits(memory_mb=512), tar_of(TOY), call_timeout_s=5)
    with pytest.raises(StudentError, match="MemoryError|Unable to allocate"):
        runner.exec("x = np.ones(2 ** 30)")
    assert runner.eval("'still here'") == "still here"
    runner.close()


def test_a_flood_of_student_output_is_captured_capped_with_head_and_tail(toy):
    toy.exec("print('FIRST')\nprint('x' * 5_000_000)\nprint('LAST', flush=True)")
    assert toy.eval("1") == 1
    tail = toy.handle.stderr_tail()
    assert len(tail) < 25_000 and "bytes dropped" in tail
    assert tail.startswith("FIRST") and tail.rstrip().endswith("LAST")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096))
def test_fuzz_the_reader_always_ends_with_eof_or_a_frame_error(data):
    inbox = queue.Queue()
    _read_frames(io.BytesIO(data), wire.FrameDecoder(max_frame=2048), inbox)
    items = [inbox.get_nowait() for _ in range(inbox.qsize())]
    assert items[-1] is _EOF or isinstance(items[-1], wire.FrameError)
    assert all(type(item) is tuple for item in items[:-1])


reply_headers = st.fixed_dictionaries({"seq": st.sampled_from([1, 2, "1", None])}, optional={
    "ok": st.sampled_from([True, False, 1, None]),
    "error": st.one_of(st.none(), st.text(max_size=5), st.dictionaries(
        st.sampled_from(["type", "message", "traceback", "mro"]),
        st.one_of(st.text(max_size=5), st.integers(), st.lists(st.text(max_size=3))))),
    "value": st.recursive(st.none() | st.integers() | st.text(max_size=5),
                          lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.sampled_from(["__ndarray__", "a"]), inner,
                                            max_size=2), max_leaves=8),
    "arrays": st.lists(st.integers(-2, 300), max_size=3),
})


@settings(max_examples=300, deadline=None)
@given(reply_headers, st.binary(max_size=300))
def test_fuzz_replies_decode_to_a_value_a_student_error_or_a_protocol_error(head, payload):
    runner = Runner(LocalBackend(), Limits(), b"")   # never started: decoding only
    runner._seq = 1
    try:
        runner._decode_reply(head, payload)
    except (StudentError, ProtocolError):
        pass


def test_raises_needs_a_runner_that_still_computes():
    """An error reply is a claim: a runner that answers every request with an error (here,
    student code that breaks the runner's ``eval``) passes no ``raises`` check."""
    runner = Runner(LocalBackend(), Limits(wall_s=60), tar_of({"tinytorch/__init__.py": ""}))
    try:
        session = StudentSession(runner, {})
        assert session.raises("int('x')", "ValueError").type_name == "ValueError"
        session.exec("__import__('sys').modules['__main__'].eval = None")   # every eval errs
        with pytest.raises(AssertionError, match="did not compute a plain product"):
            session.raises("int('x')", "ValueError")
    finally:
        runner.close()


def test_hidden_checks_get_a_runner_of_their_own():
    """Nothing a hidden check sends can be kept by student code and shown in a public
    check's output: the two visibilities never share a runner process."""
    plugin = CheckpointPlugin(tar_of(TOY), LocalBackend(), Limits(wall_s=60))
    try:
        pids = {}
        for visibility in ("public", "hidden", "public"):
            node = SimpleNamespace(nodeid=f"test_{visibility}")
            plugin.records[node.nodeid] = {"info": CheckInfo(f"toy.{visibility}", "toy",
                                                             visibility), "figures": {}}
            session = plugin._session("student", node)
            pids.setdefault(visibility, set()).add(session.eval("__import__('os').getpid()"))
        assert len(pids["public"]) == 1 and not pids["public"] & pids["hidden"]
    finally:
        plugin.close()
