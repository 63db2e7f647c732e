"""Module 01 - Setup: hidden checks (graders only): the report tells this process's truth,
as the grader measured it (``facts``), not as the student's process describes itself."""

import pytest

from harness.checkpoints import assert_equal, check
from harness.checkpoints.public.test_01_setup import cores_on, report, some_cpus


@check("setup.cores.affinity", "report.cores counts the CPUs this process may use, not the "
       "host's", "hidden")
def test_cores_affinity(student, facts, rng):
    if not facts["can_restrict_cores"]:
        pytest.skip("this system cannot restrict a process to fewer CPUs")
    assert_equal(cores_on(student, [0]), 1,
                 what="report.cores while this process may only run on one CPU")
    positions = some_cpus(rng, facts["cores"])
    assert_equal(cores_on(student, positions), len(positions),
                 what=f"report.cores while this process may only run on {len(positions)} of "
                 f"its {facts['cores']} CPUs")


@check("setup.report.platform", "report.platform is platform.platform() of the running "
       "system", "hidden")
def test_report_platform(student, facts):
    """Not per job: the platform is a fact of the image and host, and platform.platform() has
    no input a check could vary, so a table of it is the truth."""
    assert_equal(report(student).get("platform"), facts["platform"], what="report.platform")
