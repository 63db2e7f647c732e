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

# What both halves share: the key a table files a request under (what it asks, and the bytes
# it hands over), and the request being handled when the package is imported (the import
# happens inside the first request that needs it, so that request must be caught too).
KEY = '''
import sys as _sys
def _key(head, payload):
    import hashlib
    asked = sorted((k, repr(v)) for k, v in head.items() if k != "seq")
    return repr(asked) + hashlib.sha256(payload).hexdigest()
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

# The recorder: every exec/eval/put request's key, filed by its sequence number, and the
# reply sent under that number (whatever produced it) appended to PATH.
RECORDS = RUNNER + KEY + '''
import pickle as _pickle
_asked = {}
def _file(head, payload):
    if head.get("op") in ("exec", "eval", "put"):
        _asked[head.get("seq")] = _key(head, payload)
_real_handle = _runner.Session.handle
_real_encode = _runner.wire.encode_frame
def _recording_handle(self, head, payload):
    _file(head, payload)
    return _real_handle(self, head, payload)
def _recording_encode(header, blob=b"", *args):
    key = None if header.get("progress") else _asked.pop(header.get("seq"), None)
    if key is not None:
        with open(PATH, "ab") as out:
            reply = {k: v for k, v in header.items() if k != "seq"}
            _pickle.dump((key, (reply, blob)), out)
    return _real_encode(header, blob, *args)
if _FIRST_IMPORT:
    if _in_flight():
        _file(*_in_flight())
    _runner.Session.handle = _recording_handle
    _runner.wire.encode_frame = _recording_encode
'''

# The replayer: a request seen before is answered from the table; the rest go to the stubs.
# The request in flight at import is answered by failing the import with the recorded reply
# attached, which the runner's error handler (patched) then sends as it is.
REPLAYS = RUNNER + KEY + '''
import base64 as _base64, pickle as _pickle
from tinytorch._answers import TABLE as _TABLE
_TABLE = _pickle.loads(_base64.b64decode(_TABLE))
class _Replayed(BaseException):
    pass
_real_handle = _runner.Session.handle
_real_error_reply = _runner.error_reply
def _replaying_handle(self, head, payload):
    key = _key(head, payload)
    if head.get("op") in ("exec", "eval") and key in _TABLE:
        return _TABLE[key]
    return _real_handle(self, head, payload)
def _replayed_error_reply(exc, *args):
    return exc.args[0] if isinstance(exc, _Replayed) else _real_error_reply(exc, *args)
if _FIRST_IMPORT:
    _runner.Session.handle = _replaying_handle
    _runner.error_reply = _replayed_error_reply
    _head = _in_flight()
    if _head and _head[0].get("op") in ("exec", "eval") and _key(*_head) in _TABLE:
        raise _Replayed(_TABLE[_key(*_head)])
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
