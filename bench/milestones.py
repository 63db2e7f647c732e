"""The milestones as graded jobs with their real data and budgets, sandboxed and bare.

    python -m bench.milestones [--data ../shared/data] [--only xor,cifar10,tinygpt]
                               [--budget-s 180] [--image tinytorch-sandbox:latest]

For each milestone, the reference runs twice through ``workers.milestones.job.run_milestone``
under its rubric's limits: in the Docker sandbox, then "bare" (the same runner and driver as a
local process, no container). Prints, side by side: wall time, training epochs and steps,
accuracy or validation loss (scored by the grader), peak memory, and the sandbox's overhead
as a ratio to the bare run, both in wall time and in training steps per second (TinyGPT
trains for its whole budget, so only the throughput ratio says anything there).
``--budget-s`` shortens every training budget for a quick look; the rubric's is the default.
The load average is printed: other processes slow a run down. Not run in CI.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.course.course_file import load_course  # noqa: E402
from autograder.rubric import load_rubric  # noqa: E402
from harness.backends import Limits  # noqa: E402
from autograder.settings import Settings  # noqa: E402
from workers.docker_backend import DockerBackend  # noqa: E402
from harness.backends.local import LocalBackend  # noqa: E402
from workers.milestones.data import check_datasets  # noqa: E402
from workers.milestones.job import METRIC, RUBRICS_DIR, run_milestone  # noqa: E402
from harness.suite import REFERENCE_ROOT, package_tar  # noqa: E402

DEFAULT_DATA = REFERENCE_ROOT.parent / "shared" / "data"


def limits_for(name: str) -> Limits:
    course = load_course(RUBRICS_DIR / "course.yaml")
    limits = load_rubric(RUBRICS_DIR / f"{name}.yaml").rubric.limits(course.sandbox)
    return Limits(**limits.model_dump())


def one_run(name, backend, data_dir, plan) -> dict:
    """Figures of one job: wall, metric, epochs, steps per second, peak memory."""
    last = {}
    document = run_milestone(name, package_tar(REFERENCE_ROOT), backend, limits_for(name),
                             data_dir, seed=0, on_progress=last.update, plan=plan)
    if document["infrastructure_error"]:
        raise SystemExit(f"{name} on {backend.name}: {document['infrastructure_error']}")
    check = next(c for c in document["checks"] if c["id"] == METRIC[name][0])
    figures = check["figures"]
    train_s = last.get("elapsed_s") or float("nan")
    return {"outcome": check["outcome"], "message": check["message"],
            "metric": figures.get(METRIC[name][1], float("nan")), "wall_s": figures["wall_s"],
            "epochs": figures["epochs"], "steps": last.get("step", 0), "train_s": train_s,
            "steps_per_s": last.get("step", 0) / train_s, "peak_mb": figures["peak_mb"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--only", default="xor,cifar10,tinygpt")
    parser.add_argument("--budget-s", type=float, default=None,
                        help="training budget for every milestone (default: the rubric's)")
    parser.add_argument("--image", default=Settings().sandbox_image)
    args = parser.parse_args(argv)
    names = args.only.split(",")
    check_datasets(args.data, names)
    plan = {"budget_s": args.budget_s} if args.budget_s else None
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; data {args.data}")
    header = (f"{'milestone':<9} {'run':<8} {'outcome':<8} {'metric':>8} {'wall s':>8} "
              f"{'epochs':>6} {'steps':>6} {'steps/s':>8} {'peak MB':>8}")
    print(header)
    for name in names:
        runs = {}
        for label, backend in (("sandbox", DockerBackend(image=args.image)),
                               ("bare", LocalBackend())):
            started = time.monotonic()
            runs[label] = run = one_run(name, backend, args.data, plan)
            print(f"{name:<9} {label:<8} {run['outcome']:<8} {run['metric']:>8.4f} "
                  f"{run['wall_s']:>8.1f} {run['epochs']:>6} {run['steps']:>6} "
                  f"{run['steps_per_s']:>8.2f} {run['peak_mb'] or 0:>8.0f}"
                  f"   ({time.monotonic() - started:.0f} s with data preparation)", flush=True)
        sandbox, bare = runs["sandbox"], runs["bare"]
        print(f"{name:<9} overhead: wall {sandbox['wall_s'] / bare['wall_s']:.2f}x, "
              f"throughput {bare['steps_per_s'] / sandbox['steps_per_s']:.2f}x slower in the "
              f"sandbox; sandbox message: {sandbox['message'][:120]}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
