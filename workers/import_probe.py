"""Can the student's tinytorch be imported at all, and in time? One probe per grading job,
before the modules' suites.

Every check begins by importing the package. One that never finishes importing (a training
run, a long loop or ``input()`` left at module level is the usual cause) would fail each
check only when its per-call time limit ran out, restarting the sandbox each time: every
module's whole wall clock, about an hour for a course's 18 modules, per push.  One that
exits the process while being imported, or a repo the runner refuses, would start a fresh
sandbox for every check only to say the same thing ninety times.  The outcome is the same
(no check can pass), so the job says it once, at once.

An exception at import is reported by each check at once, with its traceback; running out of
memory depends on each module's limits; both take the normal path. ``IMPORT_TIMEOUT_S`` is the
longest per-call limit any check allows itself (a test keeps it so), so an import too slow
for the probe is too slow for every check.
"""
from __future__ import annotations

from harness.runner_client import (
    Runner, RunnerFailure, RunnerTimeout, StudentError, RepoRefused, RunnerCrashed)

IMPORT_TIMEOUT_S = 60.0


def import_blocker(runner: Runner) -> tuple[str, str] | None:
    """``(outcome, message)`` every check of the job gets when importing ``tinytorch`` on
    ``runner`` (the first module's, which then runs that module's checks) cannot succeed: it
    hangs past ``IMPORT_TIMEOUT_S``, exits the process, or the repo is refused.  None when
    the checks should run."""
    timeout = IMPORT_TIMEOUT_S
    try:
        runner.exec("import tinytorch", timeout=timeout)
    except RunnerTimeout:
        return "timeout", (
            f"importing your tinytorch did not finish within {timeout:g} s, so no check "
            "could run. Is a training run, a long loop or input() left at module level? "
            "Put demos under `if __name__ == \"__main__\":`.")
    except RepoRefused as exc:
        return "failed", f"{exc}, so no check could run"
    except RunnerCrashed as exc:
        if exc.oom or exc.exit_code is None:
            return None
        return "failed", (f"your package exited (code {exc.exit_code}) while being imported, "
                          f"so no check could run. Is there an exit() or os._exit() at module "
                          f"level?\n{exc}")
    except (StudentError, RunnerFailure):
        return None
    return None
