"""The untrusted runner: imports the student's ``tinytorch`` and answers requests in frames.

Run as ``python3 -m sandbox.runner``.  The first frame is ``{"op": "load_repo"}`` with the
repo as a tar payload; then each request is one of

- ``{"op": "exec", "code": str}``: run statements in the session namespace;
- ``{"op": "eval", "expr": str, "with_grad": bool}``: evaluate and send back plain data
  (a Tensor travels as its ``.data``, or as ``{"data", "grad"}`` with ``with_grad``);
- ``{"op": "put", "name": str}`` with a packed value (as a reply's): bind it to ``name`` in
  the session namespace (how the trusted side hands over data, e.g. a milestone's inputs);
- ``{"op": "reset"}``: start a fresh session namespace.

While a request runs, code in it may call ``report(**numbers)`` (injected in the namespace):
each call sends at once a ``{"progress": true, "seq": <the request's>}`` frame carrying the
numbers, so a long training run shows its progress before it replies.

Every reply is ``{"ok": true, ...}`` or ``{"ok": false, "error": {"type", "message",
"traceback"}}``.  Nothing here is trusted by the grader: the harness re-validates every frame
and compares values itself.  The runner only keeps student output away from the frame
channel so honest output never corrupts it.

Standard library and NumPy only: this file is copied into the sandbox.
"""

import importlib.machinery
import io
import os
import sys
import tarfile
import tempfile
import threading
import traceback
from pathlib import PurePosixPath

import numpy as np

from sandbox import wire

MAX_REPO_MEMBERS = 20000
MAX_MESSAGE = 2000
TRACEBACK_FRAMES = 6
MAX_PROGRESS_KEYS = 32
_PROGRESS_TYPES = (int, float, bool, type(None))


class UnsafeRepo(ValueError):
    """The submitted tar tries to write outside its directory or holds special files."""


def _within(path, root):
    path, root = os.path.realpath(path), os.path.realpath(root)
    return path == root or path.startswith(root + os.sep)


def extract_repo(data, dest):
    """Extract a tar (bytes) into ``dest``, refusing absolute paths, ``..``, links that
    escape, hard links and device files; returns the number of files written.

    Each link is checked as it is made, and every link again once all exist: a chain of
    links that each looked harmless when made (``b -> a/..`` before ``a -> .``) must not
    lead out either."""
    written, links = 0, []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        members = tar.getmembers()
        if len(members) > MAX_REPO_MEMBERS:
            raise UnsafeRepo(f"repo has {len(members)} entries, more than {MAX_REPO_MEMBERS}")
        for member in members:
            parts = PurePosixPath(member.name).parts
            if not parts and member.isdir():
                continue  # "." : the root itself
            if member.name.startswith("/") or ".." in parts or not parts:
                raise UnsafeRepo(f"unsafe path in repo: {member.name!r}")
            target = os.path.join(dest, *parts)
            if not _within(os.path.dirname(target), dest):
                raise UnsafeRepo(f"path leaves the repo through a link: {member.name!r}")
            if member.isdir():
                os.makedirs(target, exist_ok=True)
            elif member.isfile():
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as out:
                    out.write(tar.extractfile(member).read())
                written += 1
            elif member.issym():
                link = os.path.join(os.path.dirname(target), member.linkname)
                if member.linkname.startswith("/") or not _within(link, dest):
                    raise UnsafeRepo(f"symlink escapes the repo: {member.name!r} -> "
                                     f"{member.linkname!r}")
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.symlink(member.linkname, target)
                links.append((member.name, target))
            else:
                raise UnsafeRepo(f"special file or hard link in repo: {member.name!r}")
    for name, link in links:
        if not _within(link, dest):
            raise UnsafeRepo(f"symlink escapes the repo through a chain of links: {name!r}")
    return written


class RepoOnlyFinder:
    """Makes ``tinytorch`` importable from the submitted repo only, never from an installed
    copy (the reference may be installed on a grader or a student's machine)."""

    def __init__(self, root):
        self.root = root

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tinytorch" and not fullname.startswith("tinytorch."):
            return None
        search = [self.root] if path is None else [p for p in path if _within(p, self.root)]
        spec = importlib.machinery.PathFinder.find_spec(fullname, search)
        if spec is None:
            raise ModuleNotFoundError(f"No module named {fullname!r} in the submitted repo",
                                      name=fullname)
        return spec


def _safe_text(fn, fallback):
    try:
        text = fn()
        return text[:MAX_MESSAGE] if type(text) is str else fallback
    except BaseException:  # a hostile __str__ must not take the runner down
        return fallback


def error_reply(exc, repo_root=None):
    """Type, message and a short traceback of the student's frames (repo-relative paths)."""
    kind = _safe_text(lambda: type(exc).__name__, "Exception")
    message = _safe_text(lambda: str(exc), "<unprintable message>")

    def short_traceback():
        frames = traceback.extract_tb(exc.__traceback__)
        ours = os.path.dirname(os.path.abspath(__file__))
        frames = [f for f in frames
                  if os.path.dirname(os.path.abspath(f.filename)) != ours][-TRACEBACK_FRAMES:]
        text = "".join(traceback.format_list(frames))
        return text.replace(repo_root + os.sep, "") if repo_root else text

    def ancestry():
        return [c.__name__ for c in type(exc).__mro__ if type(c.__name__) is str][:20]

    try:
        mro = ancestry()
    except BaseException:
        mro = [kind]
    return {"ok": False, "error": {"type": kind, "message": message, "mro": mro,
                                   "traceback": _safe_text(short_traceback, "")}}, b""


class Session:
    """The request handlers and the namespace student snippets share."""

    def __init__(self, workdir, send=None):
        self.workdir = workdir
        self.send = send          # writes one frame to the trusted side (set by ``serve``)
        self.seq = None           # the request being answered, for progress frames
        self.repo_root = None
        self.namespace = {}
        self.reset()

    def reset(self):
        self.namespace = {"__name__": "__check__", "np": np, "report": self.report}

    def report(self, **numbers):
        """Send a progress frame now: ``report(epoch=2, loss=1.3)``; numbers only."""
        if len(numbers) > MAX_PROGRESS_KEYS:
            raise ValueError(f"report() takes at most {MAX_PROGRESS_KEYS} values")
        for key, value in numbers.items():
            if not isinstance(value, _PROGRESS_TYPES) and not isinstance(value, np.generic):
                raise TypeError(f"report({key}=...) must be a number, "
                                f"not {type(value).__name__}")
        meta, blob = wire.pack_value(numbers)
        if self.send is not None:
            self.send({"progress": True, "seq": self.seq, **meta}, blob)

    def handle(self, head, payload):
        op = head.get("op")
        if op == "load_repo":
            return self.load_repo(payload)
        if self.repo_root is None:
            return _runner_error(f"the first request must be load_repo, got {op!r}")
        if op == "reset":
            self.reset()
            return {"ok": True}, b""
        if op == "exec" and type(head.get("code")) is str:
            exec(compile(head["code"], "<check>", "exec"), self.namespace)
            return {"ok": True}, b""
        if op == "eval" and type(head.get("expr")) is str:
            value = eval(compile(head["expr"], "<check>", "eval"), self.namespace)
            meta, blob = wire.pack_value(value, convert=self._tensor_converter(
                bool(head.get("with_grad"))))
            return {"ok": True, **meta}, blob
        if op == "put" and type(head.get("name")) is str and head["name"].isidentifier():
            self.namespace[head["name"]] = wire.unpack_value(head, payload)
            return {"ok": True}, b""
        return _runner_error(f"unknown or malformed request {op!r}")

    def load_repo(self, payload):
        if self.repo_root is not None:
            return _runner_error("the repo is already loaded")
        root = os.path.join(self.workdir, "repo")
        os.makedirs(root)
        count = extract_repo(payload, root)
        self.repo_root = root
        sys.path.insert(0, root)
        sys.meta_path.insert(0, RepoOnlyFinder(root))
        return {"ok": True, "files": count}, b""

    @staticmethod
    def _tensor_converter(with_grad):
        def convert(obj):
            module = sys.modules.get("tinytorch.core.tensor")
            tensor_cls = getattr(module, "Tensor", None)
            if isinstance(tensor_cls, type) and isinstance(obj, tensor_cls):
                return {"data": obj.data, "grad": obj.grad} if with_grad else obj.data
            return obj
        return convert


def _runner_error(message):
    return {"ok": False, "error": {"type": "RunnerError", "message": message,
                                   "traceback": ""}}, b""


def serve(frames_in, frames_out, session):
    """Answer requests until the trusted side closes our stdin."""
    lock = threading.Lock()   # a progress frame from a student's thread must not interleave

    def send(header, blob=b""):
        data = wire.encode_frame(header, blob)
        with lock:
            frames_out.write(data)
            frames_out.flush()

    session.send = send
    while True:
        try:
            frame = wire.read_frame(frames_in)
        except wire.FrameError as exc:
            send(*_runner_error(f"bad request: {exc}"))
            return
        if frame is None:
            return
        seq = session.seq = frame[0].get("seq")
        try:
            reply, blob = session.handle(*frame)
        except BaseException as exc:  # student code may raise anything, SystemExit included
            reply, blob = error_reply(exc, session.repo_root)
        try:
            send({**reply, "seq": seq}, blob)
        except (wire.FrameError, ValueError, TypeError) as exc:
            error, _ = _runner_error(f"reply cannot be sent: {exc}")
            send({**error, "seq": seq})


def main():
    # Keep private copies of the real stdin/stdout for frames, then point fd 0 at /dev/null
    # and fd 1 at stderr (captured and capped by the backend), so that neither print() nor
    # os.write(1, ...) from student code can reach the frame channel.
    frames_in = os.fdopen(os.dup(0), "rb")
    frames_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull)
    sys.stdout = sys.stderr
    with tempfile.TemporaryDirectory(prefix="tinytorch-runner-") as workdir:
        serve(frames_in, frames_out, Session(workdir))


if __name__ == "__main__":
    main()
