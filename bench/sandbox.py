"""What the Docker sandbox costs: the same module-suite job on the local and the Docker backend.

    python bench/sandbox.py [--module 02_tensor] [--jobs 5] [--image tinytorch-sandbox:latest]

Prints, side by side from one run on this machine:
- the time to a runner's first answer (start, load the repo, evaluate ``1``) on each backend;
- the per-job time of the module's checkpoint suite (student runner + reference runner) on
  each backend, the overhead of Docker per job in seconds and as a ratio, with cold
  containers and with warm spares (what the workers use);
- module-suite jobs per minute with Docker, one job at a time and with one job per core in
  parallel (separate processes, as Celery's prefork pool runs them).
Target: under one second of overhead per job.  The load average is printed too: other
processes slow a run down, so figures are only comparable at similar load.  Not run in CI.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.backends import Limits  # noqa: E402
from autograder.settings import Settings  # noqa: E402
from workers.docker_backend import DockerBackend, sweep_orphans  # noqa: E402
from harness.backends.local import LocalBackend  # noqa: E402
from harness.runner_client import Runner  # noqa: E402
from harness.suite import REFERENCE_ROOT, package_tar, run_suite  # noqa: E402

LIMITS = Limits(wall_s=300)
BACKENDS = ("local", "docker cold", "docker warm")
_worker_backend = None       # one per process of the parallel phase, as in a Celery pool


def make_backend(name, image):
    if name == "local":
        return LocalBackend()
    return DockerBackend(image, warm=2 if name == "docker warm" else 0)


def first_answer_s(backend, repo_tar):
    """Seconds from starting a runner to its first answer, the runner then closed."""
    started = time.perf_counter()
    runner = Runner(backend, LIMITS, repo_tar)
    try:
        assert runner.eval("1") == 1
        return time.perf_counter() - started
    finally:
        runner.close()


def suite_job_s(backend, module):
    """One module-suite job, as a worker runs it; returns its wall time in seconds."""
    started = time.perf_counter()
    result = run_suite(module, REFERENCE_ROOT, backend, LIMITS)
    if result["infrastructure_error"]:
        raise SystemExit(f"{backend.name}: {result['infrastructure_error']}")
    return time.perf_counter() - started


def _init_worker(image):
    global _worker_backend
    _worker_backend = make_backend("docker warm", image)


def _pool_job(module):
    return suite_job_s(_worker_backend, module)


def median_s(fn, repeats):
    fn()  # warm-up: page cache, image layers, imports, the first spares
    return statistics.median(fn() for _ in range(repeats))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", default="02_tensor")
    parser.add_argument("--jobs", type=int, default=5, help="repeats per measurement")
    parser.add_argument("--image", default=Settings().sandbox_image)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"load average before: {os.getloadavg()[0]:.2f} on {cores} cores; "
          f"module {args.module}, {args.jobs} jobs per figure, image {args.image}")

    repo_tar = package_tar(REFERENCE_ROOT)
    backends = {name: make_backend(name, args.image) for name in BACKENDS}
    start, job = {}, {}
    try:
        for name, backend in backends.items():
            # a pause between runs lets warm spares get ready, as they do between real jobs
            pause = 1.0 if name == "docker warm" else 0.0
            start[name] = median_s(lambda: time.sleep(pause) or first_answer_s(
                backend, repo_tar), args.jobs)
            job[name] = median_s(lambda: time.sleep(pause) or suite_job_s(
                backend, args.module), args.jobs)
    finally:
        backends["docker warm"].drain()

    print(f"\n{'median seconds':<32}" + "".join(f"{n:>13}" for n in BACKENDS))
    for label, figures in (("runner start to first answer", start),
                           (f"{args.module} suite job", job)):
        print(f"{label:<32}" + "".join(f"{figures[n]:>13.3f}" for n in BACKENDS))
        print(f"{'  overhead s (ratio) vs local':<32}{'':>13}" + "".join(
            f"{figures[n] - figures['local']:>+7.3f} ({figures[n] / figures['local']:.2f})"
            for n in BACKENDS[1:]))

    parallel_jobs = cores * args.jobs
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=cores, initializer=_init_worker,
                             initargs=(args.image,)) as pool:
        list(pool.map(_pool_job, [args.module] * parallel_jobs))
    parallel_s = time.perf_counter() - started
    sweep_orphans()   # the pool's processes are gone; their spares with them
    print(f"\ndocker {args.module} jobs per minute: {60 / job['docker warm']:.1f} one at a "
          f"time (warm), {60 * parallel_jobs / parallel_s:.1f} with {cores} in parallel")
    overhead = job["docker warm"] - job["local"]
    print(f"overhead per job with warm spares {overhead:+.3f} s: "
          f"{'within' if overhead < 1.0 else 'OVER'} the 1 s target")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
