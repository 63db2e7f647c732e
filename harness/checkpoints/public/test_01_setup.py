"""Module 01 - Setup: public checks (shipped to students with the starter).

The report must describe the process it runs in.  What it should say comes from ``facts``:
measured by the grader in the same sandbox image with none of the student's code loaded, so
patching ``platform`` or ``numpy`` in the student's process changes the report, not the
expected values.
"""

from harness.checkpoints import assert_equal, check

IMPORT = "from tinytorch.core.setup import environment_report, blas_info"
FIELDS = ["python", "platform", "numpy", "blas", "cores"]


def report(student):
    """The student's report as ``{field: value}`` (fields it lacks are left out)."""
    student.exec(f"{IMPORT}\nreport = environment_report()")
    values = student.eval("{name: getattr(report, name) for name in "
                          f"{FIELDS!r} if hasattr(report, name)}}")
    if type(values) is not dict:
        raise AssertionError("environment_report() did not give a report")
    return values


def assert_names_blas(text, facts, what):
    """``text`` is one line naming the BLAS library the sandbox's NumPy uses."""
    if type(text) is not str or not text.strip() or "\n" in text.strip():
        raise AssertionError(f"{what} should be one non-empty line, got {text!r}")
    if facts["blas"] and not any(name.lower() in text.lower() for name in facts["blas"]):
        raise AssertionError(f"{what} is {text!r}, which does not name the BLAS library "
                             f"({' or '.join(facts['blas'])})")


# The CPUs the process may use, narrowed for the call to the ones at ``positions`` of its
# affinity mask (the count ``cores`` reads, per the contract) and restored after.
ON_CPUS = """import os
_saved = os.sched_getaffinity(0)
os.sched_setaffinity(0, [sorted(_saved)[i] for i in {positions!r}])
try:
    cores = environment_report().cores
finally:
    os.sched_setaffinity(0, _saved)
"""


def cores_on(student, positions):
    """report.cores while the process may only run on the CPUs at ``positions`` of its mask."""
    student.exec(f"{IMPORT}\n{ON_CPUS.format(positions=positions)}")
    return student.eval("cores")


def some_cpus(rng, cores):
    """Positions of a job's own non-empty subset of the ``cores`` CPUs: the one fact of the
    environment a check can vary, so a table of last job's reports is wrong in this one."""
    count = int(rng.integers(1, cores + 1))
    return sorted(int(i) for i in rng.choice(cores, size=count, replace=False))


@check("setup.report.fields", "environment_report() fills python, platform, numpy, blas and "
       "cores", "public")
def test_report_fields(student, facts, rng):
    values = report(student)
    assert_equal(sorted(values), sorted(FIELDS), what="the fields of environment_report()")
    for name in FIELDS[:4]:
        if type(values[name]) is not str or not values[name].strip():
            raise AssertionError(f"report.{name} should be a non-empty string, got "
                                 f"{values[name]!r}")
    assert_equal(values["cores"], facts["cores"], what="report.cores")
    if facts["can_restrict_cores"]:
        positions = some_cpus(rng, facts["cores"])
        assert_equal(cores_on(student, positions), len(positions),
                     what=f"report.cores while this process may only run on {len(positions)} "
                     f"of its {facts['cores']} CPUs")


@check("setup.report.versions", "report.python and report.numpy are the versions that run "
       "your code", "public")
def test_report_versions(student, facts):
    """Not per job: the versions are facts of the image, and no honest way to read them (sys,
    platform, importlib.metadata) can be fed another value, so a table of them is the truth."""
    values = report(student)
    assert_equal(values.get("python"), facts["python"],
                 what="report.python (the version number, e.g. '3.11.4')")
    assert_equal(values.get("numpy"), facts["numpy"], what="report.numpy")


@check("setup.blas.names_library", "blas_info() names NumPy's BLAS library, and the report "
       "uses it", "public")
def test_blas_names_library(student, facts, rng):
    """The sandbox's own BLAS is a fact of the image; the per-job part hands the process a
    threadpoolctl reporting a library drawn here, which blas_info() and the report must name."""
    values = report(student)
    assert_names_blas(student.eval("blas_info()"), facts, "blas_info()")
    assert_names_blas(values.get("blas"), facts, "environment_report().blas")
    pool = blas_pool(rng)
    student.exec(IMPORT + "\n" + FAKE_THREADPOOLCTL.format(
        pools=[pool], call="text, blas = blas_info(), environment_report().blas"))
    drawn = {"blas": [pool["internal_api"]]}
    assert_names_blas(student.eval("text"), drawn, f"blas_info() under threadpoolctl {pool}")
    assert_names_blas(student.eval("blas"), drawn,
                      f"environment_report().blas under threadpoolctl {pool}")


# threadpoolctl is not in the sandbox image: a stand-in module (with pools chosen here) is put
# in sys.modules for the call, so the branch that reads it is graded all the same.
FAKE_THREADPOOLCTL = """import sys, types
_fake = types.ModuleType('threadpoolctl')
_fake.threadpool_info = lambda: {pools!r}
_saved = sys.modules.get('threadpoolctl')
sys.modules['threadpoolctl'] = _fake
try:
    {call}
finally:
    if _saved is None:
        del sys.modules['threadpoolctl']
    else:
        sys.modules['threadpoolctl'] = _saved
"""


def blas_pool(rng):
    """threadpoolctl's entry for a BLAS pool of a library, version and thread count drawn here."""
    return {"user_api": "blas", "internal_api": str(rng.choice(["openblas", "mkl", "blis"])),
            "version": f"0.{rng.integers(2, 9)}.{rng.integers(10, 40)}",
            "num_threads": int(rng.integers(2, 64))}


@check("setup.blas.threadpoolctl", "with threadpoolctl installed, blas_info() gives the BLAS "
       "pool's library, version and thread count", "public")
def test_blas_threadpoolctl(student, rng):
    blas = blas_pool(rng)
    openmp = {"user_api": "openmp", "internal_api": "openmp", "version": None,
              "num_threads": int(rng.integers(2, 64))}
    student.exec(IMPORT + "\n" + FAKE_THREADPOOLCTL.format(pools=[openmp, blas],
                                                            call="text = blas_info()"))
    text = student.eval("text")
    if type(text) is not str or "\n" in text.strip():
        raise AssertionError(f"blas_info() should be one line, got {text!r}")
    for key in ("internal_api", "version", "num_threads"):
        if str(blas[key]) not in text:
            raise AssertionError(f"blas_info() is {text!r} while threadpoolctl reports the BLAS "
                                 f"pool {blas}: it should name its {key} ({blas[key]!r})")


# The build configuration as NumPy gives it, chosen here: ``{"Build Dependencies": {"blas":
# ...}}`` from NumPy >= 1.26, a TypeError (no ``mode`` argument) from the NumPy 1.24-1.25
# that pyproject still allows; threadpoolctl is blocked for the call, so that branch is read.
FAKE_BUILD_CONFIG = """import sys
import numpy as np
def _show_config(mode='stdout'):
    if {config!r} is None:
        raise TypeError("show_config() got an unexpected keyword argument 'mode'")
    return {config!r}
_saved_config, _saved_pool = np.show_config, sys.modules.get('threadpoolctl')
np.show_config, sys.modules['threadpoolctl'] = _show_config, None
try:
    text = blas_info()
finally:
    np.show_config = _saved_config
    if _saved_pool is None:
        del sys.modules['threadpoolctl']
    else:
        sys.modules['threadpoolctl'] = _saved_pool
"""


def blas_from_config(student, config):
    student.exec(IMPORT + "\n" + FAKE_BUILD_CONFIG.format(config=config))
    return student.eval("text")


@check("setup.blas.build_config", "without threadpoolctl, blas_info() names the library and "
       "version of NumPy's build configuration, or says 'unknown' on a NumPy that has none",
       "public")
def test_blas_build_config(student, rng):
    blas = {"name": str(rng.choice(["scipy-openblas", "accelerate", "mkl-sdl"])),
            "version": f"0.{rng.integers(2, 9)}.{rng.integers(10, 40)}"}
    text = blas_from_config(student, {"Build Dependencies": {"blas": blas}})
    if type(text) is not str or "\n" in text.strip():
        raise AssertionError(f"blas_info() should be one line, got {text!r}")
    for key in ("name", "version"):
        if blas[key] not in text:
            raise AssertionError(f"blas_info() is {text!r} while NumPy's build configuration "
                                 f"says {blas}: it should name its {key} ({blas[key]!r})")
    assert_equal(blas_from_config(student, None), "unknown",
                 what="blas_info() on a NumPy whose show_config() has no mode='dicts' "
                 "(NumPy < 1.26) and without threadpoolctl")
