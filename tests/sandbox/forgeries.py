"""Submissions that try to forge a grade instead of earning it, built from a repo's files.

Each one adds a few lines to ``tinytorch/__init__.py`` that reach into the runner, which
shares the student's interpreter (``python3 -m sandbox.runner`` is ``__main__``).  The tests
grade each beside its honest twin (the same repo without the forgery) and require that the
forgery earns no more.
"""

from tests.grading.submission_tars import patched, prepended

RUNNER = "_runner = __import__('sys').modules['__main__']\n"

# Every request answered "ok" (value True) whatever the student's code did.
ANSWERS_OK = RUNNER + '''
_real_handle = _runner.Session.handle
def _forged_handle(self, head, payload):
    try:
        return _real_handle(self, head, payload)
    except BaseException:
        return {"ok": True, "value": True, "arrays": []}, b""
_runner.Session.handle = _forged_handle
'''

# The runner's own replies silenced; well-formed "ok" frames written straight to its private
# copy of the output channel, found through /proc/self/fd.
WRITES_FRAMES = RUNNER + '''
import fcntl as _fcntl, os as _os
_wire = _runner.wire
_encode = _wire.encode_frame
def _frame_fd():
    for name in _os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            writable = _fcntl.fcntl(fd, _fcntl.F_GETFL) & _os.O_ACCMODE == _os.O_WRONLY
        except OSError:
            continue
        if fd > 2 and writable and _os.readlink(f"/proc/self/fd/{fd}") != _os.readlink("/proc/self/fd/2"):
            return fd
_FD = _frame_fd()
_FORGING = False       # from the next request on (this one's reply is the runner's)
class _Silent:
    def __getattr__(self, name):
        return getattr(_wire, name)
    @staticmethod
    def encode_frame(header, payload=b"", *args):
        silenced = _FORGING and "seq" in header and not header.get("forged")
        return b"" if silenced else _encode(header, payload, *args)
_runner.wire = _Silent()
_real_handle = _runner.Session.handle
def _forged_handle(self, head, payload):
    global _FORGING
    _FORGING = True
    try:
        reply, blob = _real_handle(self, head, payload)
    except BaseException:
        reply, blob = {"ok": True, "value": True, "arrays": []}, b""
    forged = {**reply, "ok": True, "seq": head.get("seq"), "forged": True}
    _os.write(_FD, _encode(forged, blob))
    return reply, blob
_runner.Session.handle = _forged_handle
'''

# A repeated identical request answered at once with the reply it got the first time.
REPLAYS_REPLIES = RUNNER + '''
_real_handle = _runner.Session.handle
_replies = {}
def _replaying_handle(self, head, payload):
    key = repr(sorted((k, v) for k, v in head.items() if k != "seq"))
    if head.get("op") in ("eval", "exec") and key in _replies:
        return _replies[key]
    reply = _real_handle(self, head, payload)
    _replies[key] = reply
    return reply
_runner.Session.handle = _replaying_handle
'''

# A speed check's product computed while its inputs are handed over (untimed), and handed
# back at once by the timed request: the work done ahead of the clock.
COMPUTES_AHEAD = RUNNER + '''
_real_handle = _runner.Session.handle
_ahead = {}
def _address(tensor):
    return tensor.data.__array_interface__["data"][0]
def _ahead_handle(self, head, payload):
    reply = _real_handle(self, head, payload)
    ns = self.namespace
    if head.get("op") == "put" and head.get("name") == "r" and "l" in ns:
        from tinytorch.core.tensor import Tensor
        if not hasattr(Tensor, "_slow_matmul"):
            Tensor._slow_matmul = Tensor.__matmul__
            def _matmul(a, b):
                done = _ahead.pop((_address(a), _address(b)), None)
                return done if done is not None else Tensor._slow_matmul(a, b)
            Tensor.__matmul__ = _matmul
        left, right = Tensor(ns["l"]), Tensor(ns["r"])
        _ahead[(_address(left), _address(right))] = Tensor._slow_matmul(left, right)
    return reply
_runner.Session.handle = _ahead_handle
'''

# The fused softmax computed into the output buffer as soon as the buffer is made (an
# untimed, unmeasured request before the memory window), and the measured call then returns
# the buffer as it is: the temporary was taken before anyone looked.
FILLS_AHEAD = RUNNER + '''
_real_handle = _runner.Session.handle
def _filling_handle(self, head, payload):
    reply = _real_handle(self, head, payload)
    ns = self.namespace
    kernels = ns.get("kernels")
    if head.get("op") == "exec" and kernels is not None and "buf" in ns and "s" in ns:
        if not hasattr(kernels, "_real_softmax"):
            kernels._real_softmax = kernels.softmax_fused
            def _softmax(x, out=None):
                if out is not None and out is getattr(kernels, "_filled", None):
                    kernels._filled = None
                    return out
                return kernels._real_softmax(x, out=out)
            kernels.softmax_fused = _softmax
        kernels._real_softmax(ns["s"], out=ns["buf"])
        kernels._filled = ns["buf"]
    return reply
_runner.Session.handle = _filling_handle
'''

# tracemalloc (what memory checks once asked) reports nothing at all.
HIDES_MEMORY = '''
import tracemalloc as _tracemalloc
_tracemalloc.get_traced_memory = lambda: (0, 0)
'''

# 32 MiB held since import (a fresh runner per memory check imports the package before its
# window opens), for a kernel to free inside the window and fill with its temporary.
BALLAST = '''
import numpy as _np
_BALLAST = [_np.ones(2**22)]
'''
MAKES_ROOM = "__import__('tinytorch')._BALLAST.clear(); "


# 48 MiB of the image's files put in the page cache at import, charged to this container
# (each file first dropped from the cache, wherever it was charged, then read), for a kernel
# to drop again inside the window: page cache is not memory the runner holds.
CACHE_BALLAST = '''
import os as _os
def _image_files(limit=48 << 20):
    total = 0
    for root, _, names in _os.walk("/usr/lib"):
        for name in names:
            path = _os.path.join(root, name)
            if _os.path.isfile(path) and not _os.path.islink(path) and total < limit:
                total += _os.path.getsize(path)
                yield path
def _drop_cache(paths):
    for path in paths:
        with open(path, "rb") as f:
            _os.posix_fadvise(f.fileno(), 0, 0, _os.POSIX_FADV_DONTNEED)
_CACHED = list(_image_files())
_drop_cache(_CACHED)
for _path in _CACHED:
    with open(_path, "rb") as _f:
        _f.read()
_BALLAST = [_CACHED]
def _make_room():
    if _BALLAST:
        _drop_cache(_BALLAST.pop())
'''
MAKES_ROOM_FROM_CACHE = "__import__('tinytorch')._make_room(); "


def with_ballast(files, path, line, ballast=BALLAST, makes_room=MAKES_ROOM):
    """``files`` holding ``ballast`` from import on, freed by ``line`` of ``path`` first."""
    indent = line[:len(line) - len(line.lstrip())]
    return patched(forged(files, ballast), path, line, indent + makes_room + line.lstrip())


# platform and numpy report what a seeded bug of module 01 returns.
PATCHES_FACTS = '''
import platform as _platform, sys as _sys, numpy as _np
_platform.platform = lambda *a, **k: _sys.platform
_platform.python_version = lambda: _sys.version
_np.__version__ = "0.0.0"
'''

PYTHON_LOOP_MATMUL = '''        a, b = np.asarray(self.data), np.asarray(other.data)
        if a.ndim == b.ndim == 2:
            out = np.zeros((a.shape[0], b.shape[1]), dtype=np.result_type(a, b))
            for i in range(a.shape[0]):
                for j in range(b.shape[1]):
                    out[i, j] = a[i] @ b[:, j]
            return self._from_op(out, (self, other), "matmul")
        return self._from_op(np.matmul(self.data, other.data), (self, other), "matmul")'''


def forged(files, forgery):
    """``files`` with ``forgery`` run when the student's package is imported."""
    return prepended(files, "tinytorch/__init__.py", forgery)


def slow_matmul(files):
    """The honest twin of a replayed speed check: a correct matmul looping over the
    output's elements in Python."""
    return patched(files, "tinytorch/core/tensor.py",
                   '        return self._from_op(np.matmul(self.data, other.data), (self, other), '
                   '"matmul")', PYTHON_LOOP_MATMUL)

# Any error of the student's code reported as every kind of exception at once (the starter's
# NotImplementedError then "raises ValueError" wherever a check expects one).
RAISES_EVERY_KIND = RUNNER + '''
_real_handle = _runner.Session.handle
_KINDS = ["ValueError", "TypeError", "IndexError", "KeyError", "RuntimeError",
          "ZeroDivisionError", "AttributeError", "OverflowError", "Exception", "BaseException"]
def _any_kind_handle(self, head, payload):
    try:
        return _real_handle(self, head, payload)
    except BaseException:
        return {"ok": False, "error": {"type": "ValueError", "message": "no", "traceback": "",
                                       "mro": _KINDS}}, b""
_runner.Session.handle = _any_kind_handle
'''
