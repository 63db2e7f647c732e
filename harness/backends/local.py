"""Runs the runner as a local subprocess.

UNSAFE for untrusted code: there is no sandbox, only an address-space limit and a process
group to kill.  It exists for a student's own self-check and for machines without Docker.
"""

import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import sandbox
from harness.backends import BackendUnavailable, Limits, MemoryMark, runner_environment

SANDBOX_DIR = Path(sandbox.__file__).resolve().parent


def stage_runner(dest):
    """Copy the sandbox package into ``dest/sandbox`` (what the sandbox image gets)."""
    target = Path(dest) / "sandbox"
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(SANDBOX_DIR.glob("*.py")):
        shutil.copyfile(path, target / path.name)
    return Path(dest)


class OutputTail:
    """Keeps the head and the tail of a stream that may be flooded, so messages stay short."""

    def __init__(self, head=4096, tail=16384):
        self.head_cap, self.tail_cap = head, tail
        self.head, self.tail, self.dropped = bytearray(), bytearray(), 0
        self.lock = threading.Lock()

    def add(self, data):
        with self.lock:
            room = self.head_cap - len(self.head)
            self.head += data[:room]
            self.tail += data[room:] if room > 0 else data
            if len(self.tail) > self.tail_cap:
                self.dropped += len(self.tail) - self.tail_cap
                del self.tail[:len(self.tail) - self.tail_cap]

    def text(self):
        with self.lock:
            gap = f"\n... [{self.dropped} bytes dropped] ...\n" if self.dropped else ""
            return (bytes(self.head) + gap.encode() + bytes(self.tail)).decode("utf-8", "replace")


def _drain(stream, sink):
    for chunk in iter(lambda: stream.read1(65536), b""):
        sink.add(chunk)


def _status_bytes(pid, field):
    """A ``kB`` field of ``/proc/<pid>/status`` in bytes; ValueError when it is missing."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    raise ValueError(f"no {field} in /proc/{pid}/status")


class LocalHandle:
    def __init__(self, proc, stage):
        self.proc, self.stage = proc, stage
        self.stdin, self.stdout = proc.stdin, proc.stdout
        self._stderr = OutputTail()
        self._peak = None
        self._drainer = threading.Thread(target=_drain, args=(proc.stderr, self._stderr),
                                         daemon=True)
        self._drainer.start()

    def stderr_tail(self):
        return self._stderr.text()

    def peak_memory_bytes(self):
        """Kernel high-water mark of the runner (VmHWM), remembered after it exits."""
        try:
            self._peak = max(self._peak or 0, _status_bytes(self.proc.pid, "VmHWM:"))
        except (OSError, ValueError):
            pass
        return self._peak

    def memory_mark(self):
        """Reset the kernel's high-water mark to the current resident size and return that
        size, so :meth:`peak_since_mark` is the peak of what runs from now on."""
        self.peak_memory_bytes()        # the lifetime peak survives the reset
        try:
            Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")
            return MemoryMark(_status_bytes(self.proc.pid, "VmRSS:"),
                              _status_bytes(self.proc.pid, "RssAnon:")
                              + _status_bytes(self.proc.pid, "RssShmem:"))
        except (OSError, ValueError):
            return None

    def peak_since_mark(self):
        try:
            return _status_bytes(self.proc.pid, "VmHWM:")
        except (OSError, ValueError):
            return None

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def oom_killed(self):
        return False  # an address-space limit shows up as a MemoryError, not as a kill

    def kill(self):
        """Kill the whole process group: children the student forked die with the runner."""
        self.peak_memory_bytes()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def close(self):
        self.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except OSError:
                pass
        self._drainer.join(timeout=5)
        self.proc.stderr.close()
        shutil.rmtree(self.stage, ignore_errors=True)


class LocalBackend:
    name = "local"

    def __init__(self, python=sys.executable):
        self.python = python

    def command(self):
        return [self.python, "-E", "-s", "-m", "sandbox.runner"]

    def start(self, limits: Limits) -> LocalHandle:
        stage = stage_runner(tempfile.mkdtemp(prefix="tinytorch-local-runner-"))
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(stage),
               "PYTHONDONTWRITEBYTECODE": "1", **runner_environment(limits)}
        memory = limits.memory_mb * 1024 * 1024

        def restrict():
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

        try:
            proc = subprocess.Popen(
                self.command(), cwd=stage, env=env,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                preexec_fn=restrict, start_new_session=True)
        except OSError as exc:
            shutil.rmtree(stage, ignore_errors=True)
            raise BackendUnavailable(f"cannot start {self.python}: {exc}") from exc
        return LocalHandle(proc, stage)
