"""Can the student's tinytorch be imported in time? One probe per grading job, before the
modules' suites.

Every check begins by importing the package. One that never finishes importing (a training
run, a long loop or ``input()`` left at module level is the usual cause) would fail each
check only when its per-call time limit ran out, restarting the sandbox each time: every
module's whole wall clock, about an hour for a course's 18 modules, per push. The outcome
is the same (no check can pass), so the job says it once, at once.

Only a hang is short-circuited. An exception at import is reported by each check at once,
with its traceback; a crash (e.g. memory) depends on each module's limits; both take the
normal path. ``IMPORT_TIMEOUT_S`` is the longest per-call limit any check allows itself
(a test keeps it so), so an import too slow for the probe is too slow for every check.
"""
from __future__ import annotations

from harness.runner_client import Runner, RunnerFailure, RunnerTimeout, StudentError

IMPORT_TIMEOUT_S = 60.0


def import_hang(runner: Runner) -> str | None:
    """The message every check of the job gets when importing ``tinytorch`` on ``runner`` (the
    first module's, which then runs that module's checks) does not finish within
    ``IMPORT_TIMEOUT_S``; None when the checks should run."""
    timeout = IMPORT_TIMEOUT_S
    try:
        runner.exec("import tinytorch", timeout=timeout)
    except RunnerTimeout:
        return (f"importing your tinytorch did not finish within {timeout:g} s, so no check "
                "could run. Is a training run, a long loop or input() left at module level? "
                "Put demos under `if __name__ == \"__main__\":`.")
    except (StudentError, RunnerFailure):
        return None
    return None
