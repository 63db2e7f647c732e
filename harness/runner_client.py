"""The trusted client of the runner.

It starts a runner through a backend, sends one request at a time with a deadline, measures
each request's wall time on this side, and turns a runner that dies, hangs or sends garbage
into a :class:`RunnerFailure` with a clear reason; the next request starts a fresh runner.
It never imports student code and never unpickles: replies are frames decoded by
:mod:`sandbox.wire`.
"""

import queue
import re
import threading
import time

from sandbox import wire
from harness.backends import Limits
from harness.student_text import clean, identifier, quoted

OUTPUT_EXCERPT = 600
MAX_PROGRESS_FRAMES = 100_000     # per request: a runner flooding progress is a protocol fault
MAX_PROGRESS_DELIVERED = 2_000    # per runner session: later reports are read and dropped
MAX_PROGRESS_KEYS = 32
_PROGRESS_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")


class RunnerFailure(Exception):
    """The runner could not answer (not the student's exception): fails the current check."""


class RunnerTimeout(RunnerFailure):
    pass


class RunnerCrashed(RunnerFailure):
    def __init__(self, message, exit_code=None, oom=False):
        super().__init__(message)
        self.exit_code, self.oom = exit_code, oom


class RepoRefused(RunnerFailure):
    """The runner refused the repo (e.g. a link leaving it): every later start would too."""


class ProtocolError(RunnerFailure):
    """The runner sent something that is not a valid reply."""


class StudentError(Exception):
    """The student's code raised; carries the type name, message and short traceback."""

    def __init__(self, type_name, message, traceback="", mro=()):
        super().__init__(f"{type_name}: {message}")
        self.type_name, self.message, self.traceback = type_name, message, traceback
        self.mro = tuple(mro) or (type_name,)  # class names, for "raises a ValueError"


_EOF = object()


def _read_frames(stream, decoder, inbox):
    """Reader thread: everything it learns goes into ``inbox``, so waits can time out."""
    read = getattr(stream, "read1", stream.read)
    try:
        while True:
            chunk = read(65536)
            if not chunk:
                decoder.finish()
                inbox.put(_EOF)
                return
            for frame in decoder.feed(chunk):
                inbox.put(frame)
    except wire.FrameError as exc:
        inbox.put(exc)
    except (OSError, ValueError):  # the pipe was closed under us by kill/close
        inbox.put(_EOF)


class Runner:
    """One student session: a runner process with the repo loaded, restarted on failure."""

    def __init__(self, backend, limits: Limits, repo_tar: bytes, call_timeout_s=30.0,
                 max_frame=wire.DEFAULT_MAX_FRAME, on_progress=None):
        """``on_progress(numbers)`` gets each ``report(**numbers)`` of a running request; if
        it raises, the runner is stopped and the exception propagates (an early stop).
        Progress never extends a request's time limit."""
        self.backend, self.limits, self.repo_tar = backend, limits, repo_tar
        self.call_timeout_s, self.max_frame = call_timeout_s, max_frame
        self.on_progress = on_progress
        self.job_deadline = time.monotonic() + limits.wall_s
        self.handle = None
        self.refused = None       # set once the repo is refused: no container is started again
        self.starts = 0
        self._seq = 0
        self.peak_memory_bytes = None
        self.progress_delivered = self.progress_dropped = 0

    # -- public requests ---------------------------------------------------------------
    def exec(self, code, timeout=None):
        """Run statements in the session namespace; returns the wall time in seconds."""
        return self.request({"op": "exec", "code": code}, timeout=timeout)[1]

    def eval(self, expr, timeout=None, with_grad=False):
        """Evaluate an expression and return its value as plain data."""
        return self.timed_eval(expr, timeout, with_grad)[0]

    def timed_eval(self, expr, timeout=None, with_grad=False):
        """``(value, seconds)``: the wall time, measured here, covers computing the value and
        sending it back, so a reply can only be fast if the work was done."""
        return self.request({"op": "eval", "expr": expr, "with_grad": with_grad},
                            timeout=timeout)

    def memory_during(self, action):
        """``(action(), bytes, held)``: run ``action`` (requests to this runner) and measure
        how far the runner's memory rose above its level at the start, as the kernel counts
        it (the container's cgroup, or the process's high-water mark under the local
        backend); ``held`` is the memory the runner held at the start
        (:class:`harness.backends.MemoryMark`)."""
        if self.handle is None:
            self._start()
        handle = self.handle
        mark = handle.memory_mark()
        if mark is None:
            raise RunnerFailure(f"the {self.backend.name} backend cannot measure memory here")
        value = action()
        peak = handle.peak_since_mark()
        if peak is None:
            raise RunnerFailure("the runner's memory peak could not be read")
        return value, max(0, peak - mark.level), mark.held

    def put(self, name, value, timeout=None):
        """Bind plain data (arrays included) to ``name`` in the session namespace."""
        try:
            meta, blob = wire.pack_value(value)
        except wire.NotPlainData as exc:
            raise RunnerFailure(f"{name} cannot be sent: {exc}") from None
        return self.request({"op": "put", "name": name, **meta}, blob, timeout=timeout)[1]

    def reset(self):
        """Fresh namespace for the next check (starts the runner if it is not running)."""
        self.request({"op": "reset"})

    def close(self):
        if self.handle is not None:
            self._remember_memory()
            self.handle.close()
            self.handle = None

    # -- machinery ---------------------------------------------------------------------
    def request(self, header, payload=b"", timeout=None):
        """Send one request; returns ``(value, seconds)`` or raises StudentError/RunnerFailure."""
        if self.handle is None:
            self._start()
        return self._roundtrip(header, payload, timeout or self.call_timeout_s)

    @property
    def restarts(self):
        return max(0, self.starts - 1)

    def _wall_clock_spent(self):
        return RunnerTimeout(f"the job's wall-clock limit of {self.limits.wall_s:.0f} s is "
                             "used up")

    def _start(self):
        if time.monotonic() >= self.job_deadline:
            raise self._wall_clock_spent()
        if self.refused is not None:
            raise RepoRefused(self.refused)
        self.handle = self.backend.start(self.limits)
        self.starts += 1
        self._inbox = queue.Queue()
        threading.Thread(target=_read_frames, daemon=True, args=(
            self.handle.stdout, wire.FrameDecoder(self.max_frame), self._inbox)).start()
        try:
            self._roundtrip({"op": "load_repo"}, self.repo_tar, self.call_timeout_s)
        except StudentError as exc:
            self._fail()
            self.refused = f"the repo could not be loaded: {exc}"
            raise RepoRefused(self.refused) from None

    def _roundtrip(self, header, payload, timeout):
        remaining = self.job_deadline - time.monotonic()
        limit = min(timeout, remaining)
        if limit <= 0:
            self._fail()
            raise self._wall_clock_spent()
        self._seq += 1
        try:
            frame = wire.encode_frame({**header, "seq": self._seq}, payload, self.max_frame)
        except wire.FrameError as exc:
            self._fail()
            raise RunnerFailure(f"the request cannot be sent: {exc}") from None
        handle, fired = self.handle, threading.Event()

        def watchdog():
            fired.set()
            handle.kill()

        timer = threading.Timer(limit, watchdog)
        started = time.perf_counter()
        timer.start()
        try:
            try:
                handle.stdin.write(frame)
                handle.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                pass  # the runner is gone; the reader reports how it ended
            try:
                item = self._next_reply(time.monotonic() + limit + 1.0)
            except BaseException:
                self._fail()
                raise
        finally:
            timer.cancel()
        elapsed = time.perf_counter() - started
        if fired.is_set() or item is None:
            self._fail()
            raise RunnerTimeout(f"no answer within {limit:.1f} s; the runner was stopped "
                                "and restarted for the remaining checks")
        if item is _EOF:
            raise self._crashed()
        if isinstance(item, wire.FrameError):
            self._fail()
            raise ProtocolError(f"the runner sent an invalid frame ({item})")
        return self._decode_reply(*item), elapsed

    def _next_reply(self, deadline):
        """The next item that is not a progress frame (None at ``deadline``); progress frames
        on the way go to ``on_progress``."""
        for _ in range(MAX_PROGRESS_FRAMES + 1):
            try:
                item = self._inbox.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if type(item) is not tuple or item[0].get("progress") is not True:
                return item
            self._deliver_progress(*item)
        raise ProtocolError(f"the runner sent more than {MAX_PROGRESS_FRAMES} progress frames "
                            "for one request")

    def _deliver_progress(self, head, payload):
        if head.get("seq") != self._seq:
            raise ProtocolError("the runner sent progress for another request")
        try:
            numbers = wire.unpack_value(head, payload)
        except wire.FrameError as exc:
            raise ProtocolError(f"the runner sent invalid progress ({exc})") from None
        if (type(numbers) is not dict or len(numbers) > MAX_PROGRESS_KEYS
                or not all(_PROGRESS_KEY.match(k) for k in numbers)):
            raise ProtocolError("the runner sent progress that is not a dict of named numbers")
        if self.progress_delivered >= MAX_PROGRESS_DELIVERED or self.on_progress is None:
            self.progress_dropped += 1
            return
        self.progress_delivered += 1
        # numbers only: text from the student's process never reaches a progress display
        self.on_progress({k: v for k, v in numbers.items()
                          if type(v) in (int, float, bool) or v is None})

    def _decode_reply(self, head, payload):
        if head.get("seq") != self._seq or type(head.get("ok")) is not bool:
            self._fail()
            raise ProtocolError("the runner sent a reply that does not answer the request")
        if not head["ok"]:
            error = head.get("error")
            fields = [error.get(k) for k in ("type", "message", "traceback")] \
                if type(error) is dict else []
            mro = error.get("mro", []) if type(error) is dict else None
            if (len(fields) != 3 or not all(type(f) is str for f in fields)
                    or type(mro) is not list or not all(type(m) is str for m in mro)):
                self._fail()
                raise ProtocolError("the runner sent a malformed error reply")
            kind, message, trace = fields
            raise StudentError(identifier(kind), clean(message), clean(trace),
                               mro=[identifier(m) for m in mro[:20]])
        try:
            return wire.unpack_value(head, payload)
        except wire.FrameError as exc:
            self._fail()
            raise ProtocolError(f"the runner sent an invalid value ({exc})") from None

    def _crashed(self):
        code = self.handle.wait(5.0)
        oom = self.handle.oom_killed()
        output = self.handle.stderr_tail()[-OUTPUT_EXCERPT:]
        self._fail()
        if oom:
            reason = f"the runner ran out of memory (limit {self.limits.memory_mb} MB)"
        elif code is None:
            reason = "the runner closed its output without exiting"
        else:
            reason = f"the runner exited with code {code}"
        reason += f"; its last output:\n{quoted(output)}" if output.strip() else ""
        return RunnerCrashed(reason, code, oom)

    def _remember_memory(self):
        peak = self.handle.peak_memory_bytes()
        if peak is not None:
            self.peak_memory_bytes = max(self.peak_memory_bytes or 0, peak)

    def _fail(self):
        """Drop the current runner; the next request starts a new one."""
        self.close()
