"""A deadline rush against one worker: many students push at once; is every push graded
exactly once, nothing lost, and does the API stay responsive?

    python3 bench/burst.py [--students 50] [--pushes-each 4] [--modules 01_setup]

Starts the whole system through ``deploy.stack`` (redis-server, gunicorn API, one Celery
worker, the Docker sandbox) on a fresh SQLite database, enrols the students, and has them
push over HTTP with a real git client, all at once.  Prints push latency percentiles, API
latency during the rush, time to drain the queue, and gradings per minute.  Not run in CI
(minutes of work); ``tests/e2e/test_burst.py`` runs a small burst with the same code.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import func, select

CHECKOUT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(CHECKOUT))

from autograder.db import session_factory_for  # noqa: E402
from autograder.models import Grade, Submission  # noqa: E402
from deploy import build_sandbox  # noqa: E402
from deploy.classroom import Classroom, course_snapshot  # noqa: E402
from deploy.stack import LocalStack  # noqa: E402
from deploy.student_repos import Push, StudentClone, reference_package  # noqa: E402


@dataclass
class Burst:
    pushes: list[Push] = field(default_factory=list)
    api_latencies: list[float] = field(default_factory=list)
    api_failures: list[str] = field(default_factory=list)
    push_seconds: float = 0.0


def _probe_api(classroom: Classroom, stop: threading.Event, burst: Burst) -> None:
    """A TA reloading the submissions list during the rush."""
    while not stop.is_set():
        started = time.monotonic()
        try:
            requests.get(f"{classroom.api_url}/api/v1/courses/{classroom.slug}/"
                         "submissions", auth=classroom.instructor, timeout=30).raise_for_status()
            burst.api_latencies.append(time.monotonic() - started)
        except requests.RequestException as exc:
            burst.api_failures.append(str(exc))
        stop.wait(0.5)


def run_burst(classroom: Classroom, logins: list[str], pushes_each: int, scratch: Path,
              threads: int) -> Burst:
    """Every student clones, then pushes ``pushes_each`` commits in a row (the first holds the
    reference tinytorch/), all students at once on ``threads`` threads."""
    package = reference_package(scratch / "reference")
    clones = {}
    with ThreadPoolExecutor(threads) as pool:
        for login, clone in zip(logins, pool.map(lambda login: StudentClone(
                classroom.api_url, classroom.slug, login, classroom.tokens[login],
                scratch / "clones" / login), logins)):
            clones[login] = clone

    def student_pushes(login: str) -> list[Push]:
        return [clones[login].push(package if n == 0 else None, f"attempt {n + 1}")
                for n in range(pushes_each)]

    burst, stop = Burst(), threading.Event()
    probe = threading.Thread(target=_probe_api, args=(classroom, stop, burst), daemon=True)
    probe.start()
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(threads) as pool:
            for pushes in pool.map(student_pushes, logins):
                burst.pushes += pushes
    finally:
        burst.push_seconds = time.monotonic() - started
        stop.set()
        probe.join()
    return burst


def grading_record(database_url: str, ids: list[int]) -> dict[int, tuple[str, int, int]]:
    """submission id -> (status, times it was claimed for grading, grade rows)."""
    with session_factory_for(database_url)() as session:
        grades = dict(session.execute(select(Grade.submission_id, func.count())
                                      .where(Grade.submission_id.in_(ids))
                                      .group_by(Grade.submission_id)).all())
        return {s.id: (s.status.value, s.attempts, grades.get(s.id, 0)) for s in
                session.scalars(select(Submission).where(Submission.id.in_(ids)))}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def describe(name: str, values: list[float]) -> str:
    if not values:
        return f"{name}: none measured"
    return (f"{name}: n={len(values)}  p50 {percentile(values, .5):.2f} s  p90 "
            f"{percentile(values, .9):.2f} s  p99 {percentile(values, .99):.2f} s  max "
            f"{max(values):.2f} s  mean {statistics.mean(values):.2f} s")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--pushes-each", type=int, default=4)
    parser.add_argument("--threads", type=int, default=16, help="students pushing at once")
    parser.add_argument("--modules", default="01_setup", help="comma-separated module ids")
    parser.add_argument("--concurrency", type=int, default=2, help="the worker's processes")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)    # progress shows when piped to a file
    image = build_sandbox.ensure_image()
    logins = [f"student-{n:03d}" for n in range(1, args.students + 1)]
    with tempfile.TemporaryDirectory(prefix="tinytorch-burst-") as tmp:
        root = Path(tmp)
        course = course_snapshot(CHECKOUT / "rubrics" / "course.yaml", root / "rubrics",
                                 modules=args.modules.split(","), milestones=[])
        with LocalStack(root, sandbox_image=image, rubrics_dir=course.parent,
                        concurrency=args.concurrency) as stack:
            classroom = Classroom.create(stack.cli, stack.api_url, course,
                                         [(login, login) for login in logins])
            print(f"{len(logins)} students x {args.pushes_each} pushes, {args.threads} at "
                  f"once; one worker ({args.concurrency} processes); modules {args.modules}")
            burst = run_burst(classroom, logins, args.pushes_each, root / "students",
                              args.threads)
            ids = [p.submission_id for p in burst.pushes if p.submission_id is not None]
            print(f"{len(burst.pushes)} pushes in {burst.push_seconds:.1f} s "
                  f"({len(ids)} recorded a submission)")
            print(describe("push latency", [p.seconds for p in burst.pushes]))
            print(describe("API latency during the rush", burst.api_latencies))
            if burst.api_failures:
                print(f"API failures: {len(burst.api_failures)}: {burst.api_failures[:3]}")
            drained = time.monotonic()
            classroom.wait_finished(set(ids), timeout=3600)
            drain_s = time.monotonic() - drained
            total_s = burst.push_seconds + drain_s
            print(f"queue drained {drain_s:.1f} s after the last push; "
                  f"{len(ids) / total_s * 60:.1f} gradings per minute from the first push")
            record = grading_record(stack.env["AUTOGRADER_DATABASE_URL"], ids)
            wrong = {i: r for i, r in record.items() if r[:2] != ("graded", 1)}
            lost = len(burst.pushes) - len(record)
            print(f"lost: {lost}; not graded exactly once: {len(wrong)} {wrong or ''}")
            return 1 if lost or wrong else 0


if __name__ == "__main__":
    sys.exit(main())
