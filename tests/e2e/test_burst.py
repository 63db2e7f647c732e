"""A small deadline rush (the CI size of ``bench/burst.py``): 5 students push 4 times each,
all at once, against one real worker; every push is graded exactly once, none is lost, and
the API answers throughout."""
from __future__ import annotations

from bench.burst import grading_record, run_burst
from deploy.classroom import FINISHED, Classroom

MODULES = ["01_setup"]
STUDENTS = [f"rush-{n}" for n in range(1, 6)]
PUSHES_EACH = 4
DRAIN_TIMEOUT_S = 180


def test_every_push_of_a_burst_is_graded_exactly_once(stack, rubrics, tmp_path):
    classroom = Classroom.create(stack.cli, stack.api_url, rubrics,
                                 [(login, login) for login in STUDENTS])
    burst = run_burst(classroom, STUDENTS, PUSHES_EACH, tmp_path, threads=len(STUDENTS))
    ids = [push.submission_id for push in burst.pushes]
    assert len(ids) == len(STUDENTS) * PUSHES_EACH and None not in ids, burst.pushes
    assert len(set(ids)) == len(ids)
    assert burst.api_failures == [] and burst.api_latencies, burst.api_failures
    try:
        classroom.wait_finished(set(ids), DRAIN_TIMEOUT_S)
    except TimeoutError as exc:
        finished = {s["id"] for s in classroom.submissions() if s["status"] in FINISHED}
        pushes = "\n".join(p.output for p in burst.pushes if p.submission_id not in finished)
        raise AssertionError(f"{exc}\n--- their pushes ---\n{pushes}"
                             f"\n--- worker log ---\n{stack.log_tail('worker', 8000)}"
                             f"\n--- API log ---\n{stack.log_tail('api')}") from None
    record = grading_record(stack.env["AUTOGRADER_DATABASE_URL"], ids)
    assert record == {i: ("graded", 1, len(MODULES)) for i in ids}
    listed = [s["id"] for s in classroom.submissions()]
    assert sorted(listed) == sorted(ids)           # nothing extra, nothing missing
    points = {row["student"]: row["cells"]["01_setup"]["points"]
              for row in classroom.gradebook()["rows"]}
    assert points == {login: 10.0 for login in STUDENTS}
