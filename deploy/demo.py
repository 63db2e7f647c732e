"""One command to a graded course (run through ``bash deploy/demo.sh``).

Builds the sandbox image if missing, starts its own redis-server, the API (gunicorn) and a
Celery worker on loopback ports, creates the demo course with three students, pushes three
repos with a real git client (the reference solution, the untouched starter, the reference
with seeded bugs), shows grading progress, prints the gradebook, writes a Canvas CSV and says
where a student's results page and the TA pages are (``--keep-running`` to click through).
Everything it started is stopped on exit, Ctrl-C included.
"""
from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from pathlib import Path

from deploy import build_sandbox
from deploy.classroom import Classroom, course_snapshot
from deploy.gradebook_table import failed_checks, render_gradebook
from deploy.stack import CHECKOUT, LocalStack, docker_problem
from deploy.student_repos import (StudentClone, buggy_package, reference_package, seeded_bugs,
                                  starter_package)

COURSE = CHECKOUT / "rubrics" / "course.yaml"
STUDENTS = [("demo-student-1", "Ada Reference"), ("demo-student-2", "Ben Starter"),
            ("demo-student-3", "Cy Buggy")]
DEMO_BUGS = {"01_setup": "blas not reported", "03_activations": "relu as abs",
             "05_losses": "mse sums instead of averaging", "06_optimizers": "nesterov ignored"}
LOCAL_WARNING = """
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!!  LOCAL BACKEND: student code runs as a plain process on THIS machine, with YOUR user's  !!
!!  rights, network and files. It is UNSAFE for untrusted code. Use it only for this demo  !!
!!  of code you trust (the demo's own three repos), never for a real class.               !!
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
"""


def say(text: str = "") -> None:
    print(text, flush=True)


def choose_backend(requested: str) -> str:
    """The sandbox to grade with: Docker when it works; the local backend only when asked
    for (flag or an explicit yes at the prompt), never as a silent fallback."""
    if requested == "local":
        say(LOCAL_WARNING)
        return "local"
    problem = docker_problem()
    if problem is None:
        return "docker"
    say(f"demo: no usable Docker engine here ({problem}).")
    say("demo: student code must run in the Docker sandbox; without it the only choice is the "
        "local backend, which is UNSAFE for untrusted code.")
    if sys.stdin.isatty():
        say(LOCAL_WARNING)
        answer = input("Grade the demo's own repos with the UNSAFE local backend? [y/N] ")
        if answer.strip().lower() in ("y", "yes"):
            return "local"
    say("demo: stopped. Start Docker and run again, or run `bash deploy/demo.sh --backend local` "
        "to accept the unsafe local backend for this demo.")
    raise SystemExit(2)


class Progress:
    """One status line: redrawn in place on a terminal; in a log, a line when it changes
    (and every half minute, so a long wait still shows life)."""

    def __init__(self):
        self.tty, self.last, self.printed_at = sys.stdout.isatty(), None, 0.0

    def __call__(self, counts, elapsed: float) -> None:
        parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        if self.tty:
            print(f"\r  grading: {parts:<45} {elapsed:4.0f} s", end="", flush=True)
        elif parts != self.last or elapsed - self.printed_at >= 30:
            say(f"  grading: {parts} ({elapsed:.0f} s)")
            self.last, self.printed_at = parts, elapsed


def push_students(classroom: Classroom, scratch: Path) -> dict[str, int]:
    """Each demo student pushes their repo; returns login -> submission id."""
    packages = {
        "demo-student-1": (reference_package(scratch / "reference"), "my solution"),
        "demo-student-2": (starter_package(scratch / "starter"), "nothing done yet"),
        "demo-student-3": (buggy_package(scratch / "buggy", seeded_bugs(DEMO_BUGS)),
                           "mostly done"),
    }
    pushed = {}
    for login, (package, message) in packages.items():
        clone = StudentClone(classroom.api_url, classroom.slug, login,
                             classroom.tokens[login], scratch / "clones" / login)
        push = clone.push(package, message)
        if push.submission_id is None:
            raise RuntimeError(f"the push of {login} recorded no submission:\n{push.output}")
        say(f"  {login}: pushed {push.commit[:10]} in {push.seconds:.1f} s -> submission "
            f"{push.submission_id}")
        pushed[login] = push.submission_id
    return pushed


def describe_subset(args) -> str:
    modules = "every module" if args.modules is None else f"modules {', '.join(args.modules)}"
    milestones = ("all milestones" if args.milestones is None else
                  f"milestones {', '.join(args.milestones)}" if args.milestones else
                  "no milestone (each trains a model for minutes; add them with --milestones)")
    return f"{modules}; {milestones}"


def _ids(text: str) -> list[str]:
    return [item for item in text.split(",") if item]


def run_demo(args, workdir: Path) -> None:
    backend = choose_backend(args.backend)
    image = None
    if backend == "docker":
        say("demo: sandbox image (built once, about 2.5 minutes; reused afterwards)...")
        image = build_sandbox.ensure_image()
    started = time.monotonic()
    say(f"demo: starting redis-server, the API and a worker ({backend} sandbox) "
        f"under {workdir}")
    course = course_snapshot(args.course, workdir / "rubrics", modules=args.modules,
                             milestones=args.milestones)
    with LocalStack(workdir, sandbox=backend, sandbox_image=image, rubrics_dir=course.parent,
                    concurrency=args.concurrency) as stack:
        classroom = Classroom.create(stack.cli, stack.api_url, course, STUDENTS)
        say(f"demo: course {classroom.slug!r} created from {args.course}, "
            f"{len(STUDENTS)} students enrolled")
        say(f"demo: graded: {describe_subset(args)}")
        say("demo: the students push (real git over HTTP):")
        pushed = push_students(classroom, workdir / "students")
        classroom.wait_finished(set(pushed.values()), args.timeout, Progress())
        say()
        book = classroom.gradebook()
        say(render_gradebook(book))
        say()
        buggy = classroom.submission(pushed["demo-student-3"])
        seeded = ", ".join(m for m in DEMO_BUGS if args.modules is None or m in args.modules)
        failed = ", ".join(failed_checks(buggy)) or "none"
        say(f"demo-student-3's failed checks (seeded bugs in {seeded or 'no graded module'}): "
            f"{failed}")
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(classroom.canvas_csv())
        say(f"\nCanvas CSV: {args.output.resolve()}")
        say(f"graded in {time.monotonic() - started:.0f} s (services included)")
        say(f"student's results: {stack.api_url}/submissions/{pushed['demo-student-3']}  "
            f"(log in as demo-student-3, access token {classroom.tokens['demo-student-3']})")
        say(f"TA pages: {stack.api_url}/courses/{classroom.slug}/gradebook  (log in as "
            f"{classroom.instructor[0]}, access token {classroom.instructor[1]})")
        if args.keep_running:
            say("demo: serving until you press Ctrl-C (then everything is stopped)")
            signal.pause()
        else:
            say("demo: stopping everything it started (run with --keep-running to click "
                "through the student's and the TA's pages first)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["docker", "local"], default="docker",
                        help="where student code runs; local is UNSAFE for untrusted code")
    parser.add_argument("--course", type=Path, default=COURSE, help="course YAML")
    parser.add_argument("--modules", type=_ids, default=None,
                        help="comma-separated module ids to grade (default: all)")
    parser.add_argument("--milestones", type=_ids, default=[],
                        help="comma-separated milestone ids to grade (default: none)")
    parser.add_argument("--output", type=Path, default=Path("demo-output/canvas.csv"),
                        help="where to write the Canvas CSV")
    # One at a time by default: speed checks score a ratio to the reference measured in the
    # same job, and two jobs on a 2-core machine make those ratios noisy.
    parser.add_argument("--concurrency", type=int, default=1, help="grading processes")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for grades")
    parser.add_argument("--keep-running", action="store_true",
                        help="keep the services up to browse the student and TA pages, "
                             "until Ctrl-C")
    args = parser.parse_args(argv)
    # SIGTERM and SIGHUP unwind like Ctrl-C, so the stack is stopped whatever ends the demo.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.default_int_handler)
    try:
        with tempfile.TemporaryDirectory(prefix="tinytorch-demo-") as workdir:
            run_demo(args, Path(workdir))
    except KeyboardInterrupt:
        say("\ndemo: interrupted; everything it started has been stopped")
        return 130
    except (build_sandbox.BuildError, RuntimeError, TimeoutError, ValueError) as exc:
        say(f"\ndemo: failed: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
