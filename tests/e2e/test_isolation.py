"""Each bug charged once, through a real push: one bug in tensor.py loses points in
02_tensor only, and the 13_attention report names 02_tensor as the place to look."""
from __future__ import annotations

from deploy.classroom import Classroom
from deploy.student_repos import StudentClone, buggy_package
from deploy.seeded_bugs import Bug

MODULES = ["02_tensor", "13_attention"]
STUDENT = ("iso-student", "Ida Isolated")
MATMUL_SWAPPED = Bug("tinytorch/core/tensor.py", (("np.matmul(self.data, other.data)",
                                                   "np.matmul(other.data, self.data)"),),
                     "tensor.matmul.2d")
GRADING_TIMEOUT_S = 240


def test_a_tensor_bug_costs_points_in_02_only_and_13_names_it(stack, rubrics, tmp_path):
    classroom = Classroom.create(stack.cli, stack.api_url, rubrics, [STUDENT])
    login = STUDENT[0]
    package = buggy_package(tmp_path / "buggy", [MATMUL_SWAPPED])
    push = StudentClone(stack.api_url, classroom.slug, login, classroom.tokens[login],
                        tmp_path / "clone").push(package, "matmul the wrong way round")
    classroom.wait_finished({push.submission_id}, GRADING_TIMEOUT_S)
    submission = classroom.submission(push.submission_id)
    assert submission["status"] == "graded"
    shares = {g["module"]: g["points"] / g["max_points"] for g in submission["grades"]}
    assert shares["02_tensor"] < 1 and shares["13_attention"] == 1, shares
    checks = {(c["module"], c["id"]): c for c in submission["checks"]}
    assert checks[("02_tensor", "tensor.matmul.2d")]["outcome"] == "failed"
    named = [c for (module, _), c in checks.items() if module == "13_attention"
             and "look at 02_tensor first" in c["message"]]
    assert named and all(c["outcome"] == "passed" for c in named)
