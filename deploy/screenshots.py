"""The README's three screenshots, from a real run: ``python3 -m deploy.screenshots``.

Starts the stack (redis-server, API, worker), has three students push with real git (the
reference, the starter, the reference with seeded bugs), waits for the grades, then logs
in through the login form in headless chromium and saves, in ``docs/``: a student's
submission page, the TA gradebook and a TA's submission detail. The browser tests build
their class with the same ``graded_class``.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from deploy import build_sandbox
from deploy.browser import chromium, full_page_screenshot, log_in
from deploy.classroom import Classroom, course_snapshot
from deploy.stack import CHECKOUT, LocalStack
from deploy.student_repos import (StudentClone, buggy_package, reference_package, seeded_bugs,
                                  starter_package)

# No timing-based check in these modules, so the pictures do not depend on a busy machine.
MODULES = ["01_setup", "03_activations"]
STUDENTS = [("ada", "Ada Reference"), ("ben", "Ben Starter"), ("cy", "Cy Buggy")]
SECTIONS = {"ada": "A", "ben": "B", "cy": "A"}
BUGS = {"01_setup": "blas not reported", "03_activations": "relu as abs"}
SHOTS = ("student-submission.png", "ta-gradebook.png", "ta-submission.png")


@dataclass
class GradedClass:
    classroom: Classroom
    clones: dict[str, StudentClone]
    packages: dict[str, Path]
    submissions: dict[str, int]      # login -> the submission of its first push


def course_file(rubrics_dir: Path, slug: str) -> Path:
    """The demo course cut to ``MODULES`` as course ``slug``, its rubrics in ``rubrics_dir``
    (the worker's AUTOGRADER_RUBRICS_DIR)."""
    return course_snapshot(CHECKOUT / "rubrics" / "course.yaml", rubrics_dir,
                           modules=MODULES, milestones=[], slug=slug)


def graded_class(stack: LocalStack, course: Path, scratch: Path,
                 timeout: float = 600) -> GradedClass:
    """Enrol the three students, push each one's repo over git, wait until all are graded."""
    classroom = Classroom.create(stack.cli, stack.api_url, course, STUDENTS, sections=SECTIONS)
    packages = {"ada": reference_package(scratch / "reference"),
                "ben": starter_package(scratch / "starter"),
                "cy": buggy_package(scratch / "buggy", seeded_bugs(BUGS))}
    clones, submissions = {}, {}
    for login, _ in STUDENTS:
        clones[login] = StudentClone(stack.api_url, classroom.slug, login,
                                     classroom.tokens[login], scratch / "clones" / login)
        push = clones[login].push(packages[login], f"work of {login}")
        if push.submission_id is None:
            raise RuntimeError(f"the push of {login} recorded no submission:\n{push.output}")
        submissions[login] = push.submission_id
    classroom.wait_finished(set(submissions.values()), timeout)
    return GradedClass(classroom, clones, packages, submissions)


def take_screenshots(graded: GradedClass, base_url: str, out: Path) -> list[Path]:
    """Student submission page, TA gradebook, TA submission detail, as ``SHOTS`` in ``out``."""
    classroom, driver = graded.classroom, chromium()
    try:
        buggy = graded.submissions["cy"]
        log_in(driver, base_url, "cy", classroom.tokens["cy"], f"/submissions/{buggy}")
        paths = [full_page_screenshot(driver, out / SHOTS[0])]
        log_in(driver, base_url, *classroom.instructor, f"/courses/{classroom.slug}/gradebook")
        paths.append(full_page_screenshot(driver, out / SHOTS[1]))
        driver.get(f"{base_url}/submissions/{graded.submissions['ben']}")
        paths.append(full_page_screenshot(driver, out / SHOTS[2]))
        return paths
    finally:
        driver.quit()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=CHECKOUT / "docs")
    parser.add_argument("--backend", choices=["local", "docker"], default="local",
                        help="local (default) runs the project's own three repos as plain "
                             "processes: fine for them, UNSAFE for anyone else's code")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tinytorch-screens-") as workdir:
        root = Path(workdir)
        course = course_file(root / "rubrics", "ml-systems")
        image = build_sandbox.ensure_image() if args.backend == "docker" else None
        with LocalStack(root / "stack", sandbox=args.backend, sandbox_image=image,
                        rubrics_dir=root / "rubrics", concurrency=1) as stack:
            graded = graded_class(stack, course, root / "students")
            graded.classroom.api("POST", f"/courses/{graded.classroom.slug}/overrides", json={
                "student": "ben", "module": "01_setup", "points": 5,
                "reason": "setup done on the lab machine; checked by hand"})
            for path in take_screenshots(graded, stack.api_url, args.out):
                print(f"screenshots: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
