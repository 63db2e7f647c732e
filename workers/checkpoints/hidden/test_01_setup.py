"""Module 01 - Setup: hidden checks (graders only): the report tells this process's truth,
as the grader measured it (``facts``), not as the student's process describes itself."""

import pytest

from harness.checkpoints import assert_equal, check
from harness.checkpoints.public.test_01_setup import report

IMPORT = "from tinytorch.core.setup import environment_report"


@check("setup.cores.affinity", "report.cores counts the CPUs this process may use, not the "
       "host's", "hidden")
def test_cores_affinity(student, facts):
    if not facts["can_restrict_cores"]:
        pytest.skip("this system cannot restrict a process to fewer CPUs")
    student.exec(f"{IMPORT}\nimport os\n"
                 "saved = os.sched_getaffinity(0)\nos.sched_setaffinity(0, {min(saved)})\n"
                 "try:\n    cores = environment_report().cores\n"
                 "finally:\n    os.sched_setaffinity(0, saved)")
    assert_equal(student.eval("cores"), 1,
                 what="report.cores while this process may only run on one CPU")


@check("setup.report.platform", "report.platform is platform.platform() of the running "
       "system", "hidden")
def test_report_platform(student, facts):
    assert_equal(report(student).get("platform"), facts["platform"], what="report.platform")
