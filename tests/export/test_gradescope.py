"""A rubric grade written as Gradescope's results.json."""
import json

from autograder.export.gradescope import results_json
from autograder.rubric import grade
from tests.rubric.made_up_module import CHECK_IDS, RUBRIC, all_passed, check


def test_results_json_fields_scores_and_visibility():
    graded = grade(RUBRIC, all_passed(**{"tensor.add.broadcast": check(
        "tensor.add.broadcast", "failed", "wrong shape", visibility="hidden")}), CHECK_IDS)
    document = json.loads(json.dumps(results_json(
        graded, {"tensor.add.broadcast": "a + b broadcasts"}, execution_time=1.5)))
    assert document["score"] == graded.points == 11
    assert document["execution_time"] == 1.5
    tests = {t["number"]: t for t in document["tests"]}
    broadcast = tests["tensor.add.broadcast"]
    assert broadcast == {"name": "a + b broadcasts", "number": "tensor.add.broadcast",
                         "score": 0.0, "max_score": 2.0, "status": "failed",
                         "output": "wrong shape", "output_format": "text",
                         "tags": ["tensor.add.*"], "visibility": "hidden"}
    assert tests["tensor.repr.hidden_case"]["visibility"] == "after_due_date"
    assert tests["tensor.create.ones"]["visibility"] == "visible"
    assert sum(t["max_score"] for t in document["tests"]) == graded.max_points
