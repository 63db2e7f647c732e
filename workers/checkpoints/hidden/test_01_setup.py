"""Module 01 - Setup: hidden checks (graders only): the report tells this process's truth."""

import pytest

from harness.checkpoints import assert_equal, check

IMPORT = "from tinytorch.core.setup import environment_report"


@check("setup.cores.affinity", "report.cores counts the CPUs this process may use, not the "
       "host's", "hidden")
def test_cores_affinity(student):
    student.exec(f"{IMPORT}\nimport os")
    if not student.eval("hasattr(os, 'sched_setaffinity')"):
        pytest.skip("this system cannot restrict a process to fewer CPUs")
    student.exec("saved = os.sched_getaffinity(0)\nos.sched_setaffinity(0, {min(saved)})\n"
                 "try:\n    cores = environment_report().cores\n"
                 "finally:\n    os.sched_setaffinity(0, saved)")
    assert_equal(student.eval("cores"), 1,
                 what="report.cores while this process may only run on one CPU")


@check("setup.report.platform", "report.platform is platform.platform() of the running "
       "system", "hidden")
def test_report_platform(student):
    student.exec(f"{IMPORT}\nimport platform")
    assert_equal(student.eval("environment_report().platform"),
                 student.eval("platform.platform()"), what="report.platform")
