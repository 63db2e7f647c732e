"""Facts of the sandbox the runners run in (Python, NumPy, BLAS, platform, cores), measured
by the trusted side.

Module 01's checks compare a student's environment report with these.  They come from a
runner that never loaded student code (an empty repo), started through the same backend and
limits as the student's, so they describe the same image and host; asking the student's
process would let it patch ``platform`` or ``numpy`` and agree with itself.
"""

import io
import tarfile

from harness.runner_client import Runner

PROBE = """\
import json, os, platform, sys
try:
    built = np.show_config(mode='dicts')['Build Dependencies']['blas']['name']
except Exception:
    built = None
try:
    from threadpoolctl import threadpool_info
    loaded = [p['internal_api'] for p in threadpool_info() if p.get('user_api') == 'blas']
except ImportError:
    loaded = []
facts = {"python": platform.python_version(), "numpy": np.__version__,
         "platform": platform.platform(), "blas": [n for n in [built, *loaded] if n],
         "can_restrict_cores": hasattr(os, "sched_setaffinity"),
         "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                  else os.cpu_count() or 1}
"""
FIELDS = {"python": str, "numpy": str, "platform": str, "blas": list,
          "can_restrict_cores": bool, "cores": int}
_measured = {}


def empty_repo():
    buf = io.BytesIO()
    tarfile.open(fileobj=buf, mode="w").close()
    return buf.getvalue()


def sandbox_facts(backend, limits):
    """The facts, measured once per backend, image and CPU limit in this worker process."""
    key = (backend.name, getattr(backend, "image", None), limits.cpus)
    if key not in _measured:
        runner = Runner(backend, limits, empty_repo())
        try:
            runner.exec(PROBE)
            facts = runner.eval("facts")
        finally:
            runner.close()
        if type(facts) is not dict or any(type(facts.get(k)) is not t for k, t in FIELDS.items()):
            raise RuntimeError(f"the sandbox facts probe gave {facts!r}")
        _measured[key] = facts
    return _measured[key]
