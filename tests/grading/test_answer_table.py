"""No check of any module is passed by a table of another job's answers (``answer_table``):
every points-bearing check sends inputs drawn from the job's secret seed besides its fixed
examples.  The hidden checks' table could only come from a leak of their code; it is checked
too, so that a leak would not be worth a point either."""

import pytest

from contract.modules import MODULE_IDS
from tests.sandbox.answer_table import passed_by_table

# Facts of the sandbox image, the same in every job and read by no function a check could
# feed another value: a table of them is the honest answer (their docstrings say so).
IMAGE_FACTS = {"setup.report.versions", "setup.report.platform"}


@pytest.mark.parametrize("visibility", ["public", "hidden"])
@pytest.mark.parametrize("module", MODULE_IDS)
def test_no_check_is_passed_by_a_table_of_another_jobs_answers(backend, starter_files, module,
                                                              visibility):
    passed, size = passed_by_table(module, backend, starter_files, (visibility,))
    assert size > 0, "the recording saw no request: the table proves nothing"
    assert set(passed) <= IMAGE_FACTS, passed
