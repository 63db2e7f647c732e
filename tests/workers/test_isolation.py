"""Each bug charged once, in its own module: a bug in tensor.py costs points in 02_tensor,
and 13_attention, which fails on the whole package, is graded on the reference's tensor."""

from pathlib import Path

import pytest

from autograder.rubric import load_rubric
from workers import grading
from harness.backends import Limits
from harness.backends.local import LocalBackend
from autograder.starter import strip_solutions
from contract.modules import MODULE_IDS
from harness.suite import run_suite
from workers.isolation import ISOLATED, OWN, grade_isolated, isolated_package
from workers.package_files import files_of_checkout, files_of_tar, tar_of

RUBRICS = Path(__file__).resolve().parents[2] / "rubrics"
TENSOR = "tinytorch/core/tensor.py"
MATMUL = "np.matmul(self.data, other.data)"


@pytest.fixture(scope="module")
def reference_files():
    return files_of_checkout(Path(__file__).resolve().parents[2])


@pytest.fixture(scope="module")
def buggy_tar(reference_files):
    """One bug: matmul computes other @ self."""
    text = reference_files[TENSOR].decode()
    assert text.count(MATMUL) == 1
    return tar_of({**reference_files, TENSOR: text.replace(MATMUL, "np.matmul(other.data, "
                                                                   "self.data)")})


def jobs(mode, modules=("02_tensor", "13_attention")):
    return [grading.ModuleJob(m, load_rubric(RUBRICS / f"{m}.yaml"), Limits(wall_s=120), mode)
            for m in modules]


def by_module(graded):
    return {scored.module: (results, scored) for results, scored in graded}


def test_best_of_charges_the_bug_in_its_own_module_only(buggy_tar):
    graded = by_module(grading.grade_modules(jobs("best_of"), buggy_tar, LocalBackend()))
    tensor, tensor_grade = graded["02_tensor"]
    attention, attention_grade = graded["13_attention"]
    assert tensor_grade.points < tensor_grade.max_points
    assert tensor["isolation"]["chosen"] == OWN and {c["run"] for c in tensor["checks"]} == {OWN}
    assert attention_grade.points == attention_grade.max_points
    assert attention["isolation"]["chosen"] == ISOLATED
    assert attention["isolation"]["own_points"] < attention_grade.points
    assert {c["run"] for c in attention["checks"]} == {ISOLATED}
    explained = [c for c in attention["checks"] if "look at 02_tensor first" in c["message"]]
    assert explained and all(c["outcome"] == "passed" for c in explained)
    assert "with your whole package" in explained[0]["message"]


def test_own_keeps_the_whole_package_and_reference_only_isolates(buggy_tar):
    own = by_module(grading.grade_modules(jobs("own"), buggy_tar, LocalBackend()))
    _, attention_grade = own["13_attention"]
    assert attention_grade.points < attention_grade.max_points
    isolated = by_module(grading.grade_modules(jobs("reference"), buggy_tar, LocalBackend()))
    results, tensor_grade = isolated["02_tensor"]
    assert tensor_grade.points < tensor_grade.max_points   # the student's own tensor.py
    assert {c["run"] for c in results["checks"]} == {ISOLATED}
    _, attention_grade = isolated["13_attention"]
    assert attention_grade.points == attention_grade.max_points


def test_a_module_without_failures_runs_once(reference_files):
    calls = []

    def run(tar, own):
        calls.append(own)
        return {"checks": [{"id": "a.b", "outcome": "passed", "message": ""}],
                "infrastructure_error": None}

    results, _ = grade_isolated("02_tensor", "best_of", tar_of(reference_files), run,
                                lambda r: None)
    assert calls == [True] and results["isolation"]["chosen"] == OWN


def test_an_unknown_mode_is_refused(reference_files):
    with pytest.raises(ValueError, match="isolation 'mixed'"):
        grade_isolated("02_tensor", "mixed", b"", None, None)


def test_the_isolated_package_keeps_the_students_module_and_takes_the_rest(reference_files):
    """Earlier modules come solved, later ones stubbed as in the starter: the student's code
    never runs beside the reference's solutions of modules it has not reached."""
    student = {**reference_files, TENSOR: b"# mine\n", "tinytorch/core/helpers.py": b"x = 1\n",
               "tinytorch/core/attention.py": b"# broken\n"}
    del student["tinytorch/core/layers.py"]
    isolated = files_of_tar(isolated_package("04_layers", tar_of(student)))
    assert "tinytorch/core/layers.py" not in isolated          # module N: the student's (none)
    assert isolated["tinytorch/core/helpers.py"] == b"x = 1\n"  # a file of no module too
    assert isolated[TENSOR] == reference_files[TENSOR]          # an earlier module: solved
    attention = isolated["tinytorch/core/attention.py"].decode()
    assert attention == strip_solutions(reference_files["tinytorch/core/attention.py"].decode())
    assert "raise NotImplementedError" in attention             # a later module: stubbed


@pytest.mark.parametrize("module_id", MODULE_IDS)
def test_the_reference_isolated_with_later_modules_stubbed_scores_full_marks(
        reference_files, module_id):
    """No suite reaches past its module, so isolation never needs a later solution."""
    results = run_suite(module_id, isolated_package(module_id, tar_of(reference_files)),
                        LocalBackend(), Limits(wall_s=300, memory_mb=2048), job_seed=7)
    assert results["infrastructure_error"] is None
    assert [c["id"] for c in results["checks"] if c["outcome"] != "passed"] == []


def test_nothing_the_isolated_run_wrote_reaches_the_student(reference_files):
    """Its messages could carry the reference's solutions: each check says what the student's
    own run said, or why it passes now, or that it fails only beside the reference."""
    own = {"checks": [{"id": "m.a", "outcome": "failed", "message": "own a"},
                      {"id": "m.b", "outcome": "failed", "message": "own b"},
                      {"id": "m.c", "outcome": "passed", "message": ""}],
           "infrastructure_error": None}
    leaked = "def softmax(x): ...  # the reference's solution"
    isolated = {"checks": [{"id": "m.a", "outcome": "passed", "message": leaked},
                           {"id": "m.b", "outcome": "failed", "message": leaked},
                           {"id": "m.c", "outcome": "failed", "message": leaked}],
                "infrastructure_error": None}
    runs = iter([own, isolated])
    scores = iter([1.0, 2.0])
    results, _ = grade_isolated("04_layers", "best_of", tar_of(reference_files),
                                lambda tar, mine: next(runs),
                                lambda r: type("Scored", (), {"points": next(scores)})())
    messages = {c["id"]: c["message"] for c in results["checks"]}
    assert results["isolation"]["chosen"] == ISOLATED
    assert not any(leaked in m for m in messages.values())
    assert messages["m.a"].startswith("passes with the reference's code") and "own a" in \
        messages["m.a"]
    assert messages["m.b"] == "own b"
    assert "passes with your whole package" in messages["m.c"]
