"""A made-up module for the rubric engine's tests (independent of the real suites): its
check ids, its rubric, and builders of its results documents."""
from autograder.rubric import parse_rubric

CHECK_IDS = ["tensor.create.zeros", "tensor.create.ones", "tensor.add.broadcast",
             "tensor.add.same_shape", "tensor.matmul.values", "tensor.matmul.speed",
             "tensor.matmul.memory", "tensor.repr.hidden_case"]

RUBRIC_TEXT = """\
module: 02_tensor
version: 3
required: ["tensor.create.*"]
checks:
  - match: tensor.create.*
    points: 2
  - match: tensor.add.*
    points: 4
  - match: tensor.matmul.speed
    points: 3
    figures:
      ratio_to_reference: {full: 1.5, zero: 3.0}
  - match: tensor.matmul.memory
    points: 1
    figures:
      peak_mb: {full: 100, zero: 200}
  - match: tensor.matmul.*
    points: 2
    all_or_nothing: true
  - match: tensor.repr.*
    points: 1
    visibility: after_deadline
"""

RUBRIC = parse_rubric(RUBRIC_TEXT, "rubrics/02_tensor.yaml")


def check(check_id, outcome="passed", message="", visibility="public", **figures):
    return {"id": check_id, "outcome": outcome, "message": message, "visibility": visibility,
            "figures": figures}


def results(checks, module="02_tensor", infrastructure_error=None):
    return {"module": module, "suite": "harness/checkpoints", "backend": "local",
            "started_at": "2027-01-01T00:00:00Z", "duration_s": 1.0,
            "infrastructure_error": infrastructure_error, "checks": checks}


def all_passed(**overrides):
    """Every check passed with good figures; ``overrides`` replace whole checks by id."""
    good = {"tensor.matmul.speed": check("tensor.matmul.speed", ratio_to_reference=1.2),
            "tensor.matmul.memory": check("tensor.matmul.memory", peak_mb=50.0)}
    return results([overrides.get(i) or good.get(i) or check(i) for i in CHECK_IDS])
