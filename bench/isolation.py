"""What isolation costs: each module graded with ``isolation: own`` and ``best_of``, side by
side in one run, for a push with no failures (the reference) and one failing everywhere
(the starter).

    python bench/isolation.py [--modules 02_tensor 13_attention] [--backend local|docker]
                              [--repeats 3]

best_of runs a module's suite a second time only when the first run has failures, so the
ratio best_of / own should be about 1.0 for the reference and at most 2.0 for the starter.
Ratios, not seconds, are the comparable figure: both run on the same machine and load.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from autograder.rubric import load_rubric
from autograder.starter import generate_starter
from harness.backends import Limits
from harness.checkpoints.registry import modules_with_suites
from workers.grading import ModuleJob, grade_module
from workers.mutation.run import backend_named
from harness.suite import REFERENCE_ROOT, package_tar

RUBRICS = REFERENCE_ROOT / "rubrics"


def seconds(job, repo_tar, backend, repeats):
    """The best of ``repeats`` gradings: load on a shared machine only ever adds time."""
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        grade_module(job, repo_tar, backend)
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", nargs="*", default=modules_with_suites())
    parser.add_argument("--backend", choices=["local", "docker"], default="local")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    backend = backend_named(args.backend)
    with tempfile.TemporaryDirectory() as scratch:
        pushes = {"reference (no failures)": package_tar(REFERENCE_ROOT),
                  "starter (fails everywhere)": package_tar(generate_starter(Path(scratch)))}
        for label, repo_tar in pushes.items():
            print(f"\n{label}\n{'module':<16} {'own s':>7} {'best_of s':>9} {'ratio':>6}")
            totals = [0.0, 0.0]
            for module_id in args.modules:
                rubric = load_rubric(RUBRICS / f"{module_id}.yaml")
                own, best = (seconds(ModuleJob(module_id, rubric, Limits(), mode), repo_tar,
                                     backend, args.repeats) for mode in ("own", "best_of"))
                totals = [totals[0] + own, totals[1] + best]
                print(f"{module_id:<16} {own:>7.2f} {best:>9.2f} {best / own:>6.2f}")
            print(f"{'all':<16} {totals[0]:>7.2f} {totals[1]:>9.2f} "
                  f"{totals[1] / totals[0]:>6.2f}")


if __name__ == "__main__":
    main()
