"""A table of answers: the forgery that fixed check inputs cannot stop.

A student runs the public suite on a working package once (a classmate's, or the solution
from last year), records every request the checks send with the runner's reply, and ships
the table instead of an implementation: at import, the package answers each request it has
seen from the table and leaves the rest to the starter's stubs.  A check whose requests are
the same in every job is passed by the table; only inputs drawn from the job's secret seed
stop it.  ``replaying(starter_files, table)`` builds that package; ``record(module,
job_seed)`` builds the table from the reference with the local backend (the recording runs
the reference, not student code).

``python -m tests.sandbox.answer_table [--hidden] MODULE...`` lists, per module, the public
(or hidden) checks such a table passes in another job (there should be none).
"""

import base64
import pickle
import sys
import tempfile
from pathlib import Path

from harness.backends import Limits
from harness.backends.local import LocalBackend
from harness.suite import run_suite
from tests.grading.submission_tars import package_files, starter_package_files, tar_of
from tests.sandbox.forgeries import RUNNER, forged

# What both halves share: the keys a table files a request under, and the request being
# handled when the package is imported (the import happens inside the first request that
# needs it, so that request must be caught too).  A request is filed by what it asks and the
# bytes it hands over, and again by that and every request before it since the last reset
# (the check's history so far): the same text can mean different things in different checks.
KEY = '''
import sys as _sys, hashlib as _hashlib
_history = []
def _keys(head, payload):
    if head.get("op") in ("reset", "load_repo"):
        _history.clear()
        return []
    asked = sorted((k, repr(v)) for k, v in head.items() if k != "seq")
    text = repr(asked) + _hashlib.sha256(payload).hexdigest()
    _history.append(text)
    return [_hashlib.sha256(repr(_history).encode()).hexdigest(), text]
def _in_flight():
    frame = _sys._getframe()
    while frame is not None:
        if frame.f_code is _runner.Session.handle.__code__:
            return frame.f_locals["head"], frame.f_locals["payload"]
        frame = frame.f_back
    return None
_FIRST_IMPORT = not hasattr(_runner, "_table_installed")
_runner._table_installed = True
'''

# The recorder: every request's keys, filed by its sequence number, and the reply sent under
# that number (whatever produced it) appended to PATH under each key.
RECORDS = RUNNER + KEY + '''
import pickle as _pickle
_asked = {}
def _file(head, payload):
    keys = _keys(head, payload)
    if head.get("op") in ("exec", "eval", "put"):
        _asked[head.get("seq")] = keys
_real_handle = _runner.Session.handle
_real_encode = _runner.wire.encode_frame
def _recording_handle(self, head, payload):
    _file(head, payload)
    return _real_handle(self, head, payload)
def _recording_encode(header, blob=b"", *args):
    keys = [] if header.get("progress") else _asked.pop(header.get("seq"), [])
    with open(PATH, "ab") as out:
        for key in keys:
            reply = {k: v for k, v in header.items() if k != "seq"}
            _pickle.dump((key, (reply, blob)), out)
    return _real_encode(header, blob, *args)
if _FIRST_IMPORT:
    if _in_flight():
        _file(*_in_flight())
    _runner.Session.handle = _recording_handle
    _runner.wire.encode_frame = _recording_encode
'''

# The replayer: a request seen before, after the same history if possible, is answered from
# the table; the rest go to the stubs.  The request in flight at import is answered by
# failing the import with the recorded reply attached, which the runner's error handler
# (patched) then sends as it is.
REPLAYS = RUNNER + KEY + '''
import base64 as _base64, pickle as _pickle
from tinytorch._answers import TABLE as _TABLE
_TABLE = _pickle.loads(_base64.b64decode(_TABLE))
class _Replayed(BaseException):
    pass
def _answer(head, payload):
    keys = _keys(head, payload)
    if head.get("op") in ("exec", "eval"):
        return next((_TABLE[key] for key in keys if key in _TABLE), None)
_real_handle = _runner.Session.handle
_real_error_reply = _runner.error_reply
def _replaying_handle(self, head, payload):
    return _answer(head, payload) or _real_handle(self, head, payload)
def _replayed_error_reply(exc, *args):
    return exc.args[0] if isinstance(exc, _Replayed) else _real_error_reply(exc, *args)
if _FIRST_IMPORT:
    _runner.Session.handle = _replaying_handle
    _runner.error_reply = _replayed_error_reply
    _reply = _in_flight() and _answer(*_in_flight())
    if _reply:
        raise _Replayed(_reply)
'''

LIMITS = Limits(wall_s=600, memory_mb=2048, cpus=1.0, pids=64, tmpfs_mb=64)


def record(module, job_seed, visibility=("public",), reference_files=None):
    """``{request key: reply}`` for every request ``module``'s checks of ``visibility`` send
    to the reference in a job with ``job_seed``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "table.pickle"
        path.touch()
        recorder = RECORDS.replace("PATH", repr(str(path)))
        files = forged(reference_files or package_files(), recorder)
        run_suite(module, tar_of(files), LocalBackend(), LIMITS, visibility=visibility,
                  job_seed=job_seed)
        table = {}
        with path.open("rb") as recorded:
            while True:
                try:
                    key, reply = pickle.load(recorded)
                except EOFError:
                    return table
                table[key] = reply


def replaying(files, table):
    """``files`` (the starter's) answering every request in ``table`` from it."""
    packed = base64.b64encode(pickle.dumps(table)).decode()
    return {**forged(files, REPLAYS), "tinytorch/_answers.py": f"TABLE = {packed!r}\n"}


def passed_by_table(module, backend, starter, visibility=("public",), recorded_seed=7,
                    graded_seed=13):
    """The ids of ``module``'s checks that a table recorded in one job passes in another,
    with the table's size (a table that recorded nothing proves nothing).  A table of the
    hidden checks' requests needs their code, which never leaves the grader: the hidden
    visibility measures how much such a leak would be worth."""
    table = record(module, recorded_seed, visibility)
    result = run_suite(module, tar_of(replaying(starter, table)), backend, LIMITS,
                       visibility=visibility, job_seed=graded_seed)
    if result["infrastructure_error"]:
        raise RuntimeError(result["infrastructure_error"])
    return [c["id"] for c in result["checks"] if c["outcome"] == "passed"], len(table)


def main(args):
    visibility = ("hidden",) if "--hidden" in args else ("public",)
    starter = starter_package_files()
    for module in (a for a in args if a != "--hidden"):
        passed, size = passed_by_table(module, LocalBackend(), starter, visibility)
        print(f"{module}: a table of {size} answers passes {len(passed)} {visibility[0]} "
              "checks")
        for check_id in passed:
            print(f"  {check_id}")


if __name__ == "__main__":
    main(sys.argv[1:])
