"""Module 01 - Setup: public checks (shipped to students with the starter).

The report must describe the process it runs in, so each check asks the runner for the
student's report and, beside it, for the facts it should contain; the comparison is here.
"""

from harness.checkpoints import assert_equal, check

IMPORT = "from tinytorch.core.setup import environment_report, blas_info"
FIELDS = ["python", "platform", "numpy", "blas", "cores"]


@check("setup.report.fields", "environment_report() fills python, platform, numpy, blas and "
       "cores", "public")
def test_report_fields(student):
    student.exec(f"{IMPORT}\nreport = environment_report()")
    values = student.eval("{name: getattr(report, name) for name in "
                          f"{FIELDS!r} if hasattr(report, name)}}")
    assert_equal(sorted(values), sorted(FIELDS), what="the fields of environment_report()")
    for name in FIELDS[:4]:
        if type(values[name]) is not str or not values[name].strip():
            raise AssertionError(f"report.{name} should be a non-empty string, got "
                                 f"{values[name]!r}")
    if type(values["cores"]) is not int or values["cores"] < 1:
        raise AssertionError(f"report.cores should be a positive int, got {values['cores']!r}")


@check("setup.report.versions", "report.python and report.numpy are the versions that run "
       "your code", "public")
def test_report_versions(student):
    student.exec(f"{IMPORT}\nimport platform\nreport = environment_report()")
    expected = student.eval("[platform.python_version(), np.__version__]")
    assert_equal(student.eval("report.python"), expected[0],
                 what="report.python (the version number, e.g. '3.11.4')")
    assert_equal(student.eval("report.numpy"), expected[1], what="report.numpy")


@check("setup.blas.names_library", "blas_info() names NumPy's BLAS library, and the report "
       "uses it", "public")
def test_blas_names_library(student):
    student.exec(f"{IMPORT}\ninfo = blas_info()\nreport = environment_report()\n"
                 "try:\n    built = np.show_config(mode='dicts')['Build Dependencies']['blas']"
                 "['name']\nexcept Exception:\n    built = None\n"
                 "try:\n    from threadpoolctl import threadpool_info\n"
                 "    loaded = [p['internal_api'] for p in threadpool_info() "
                 "if p.get('user_api') == 'blas']\nexcept ImportError:\n    loaded = []")
    info, built, loaded = student.eval("[info, built, loaded]")
    if type(info) is not str or not info.strip() or "\n" in info.strip():
        raise AssertionError(f"blas_info() should return one non-empty line, got {info!r}")
    names = [name for name in [built, *loaded] if type(name) is str]
    if names and not any(name.lower() in info.lower() for name in names):
        raise AssertionError(f"blas_info() returned {info!r}, which does not name the BLAS "
                             f"library ({' or '.join(names)})")
    assert_equal(student.eval("report.blas"), info, what="environment_report().blas")
