"""The shipped demo course and the course file's own rules."""
from datetime import timedelta
from pathlib import Path

import pytest

from autograder.course.course_file import load_course, parse_course
from autograder.yaml_files import ConfigError

ROOT = Path(__file__).resolve().parents[2]
MODULES = ("01_setup 02_tensor 03_activations 04_layers 05_losses 06_optimizers 07_autograd "
           "08_training 09_spatial 10_dataloader 11_tokenization 12_embeddings 13_attention "
           "14_transformers 15_generation 16_kernels 17_benchmarking 18_mlops").split()

MINIMAL = """\
slug: c
title: C
modules:
  - id: 02_tensor
    title: Tensor
    points: 20
    deadline: {deadline}
    rubric: 02_tensor.yaml
{extra}"""


def course_text(deadline="2027-01-29T23:59:00-05:00", extra=""):
    return MINIMAL.format(deadline=deadline, extra=extra)


def test_demo_course_has_all_modules_and_milestones_in_order():
    path = ROOT / "rubrics" / "course.yaml"
    course = parse_course(path.read_text(encoding="utf-8"), str(path))
    assert [m.id for m in course.modules] == MODULES
    assert [m.id for m in course.milestones] == ["xor", "cifar10", "tinygpt"]
    assert all(a.deadline.tzinfo is not None and a.canvas_id for a in course.assignments)
    assert course.close_after_deadline == timedelta(days=7)


def test_defaults():
    course = parse_course(course_text())
    assert course.graded_branch == "main"
    assert course.counts == "latest_with_penalty"
    assert course.sandbox.memory_mb == 1024 and course.late_policy.per == "day"


def test_naive_deadline_is_refused_at_its_line():
    with pytest.raises(ConfigError) as caught:
        parse_course(course_text(deadline="2027-01-29 23:59:00"), "course.yaml")
    assert (caught.value.line, caught.value.field) == (7, "modules[0].deadline")


def test_extension_needs_exactly_one_of_extra_or_until():
    extra = "extensions:\n  - student: ann\n    extra: 2d\n    until: 2027-02-01T00:00:00Z\n"
    with pytest.raises(ConfigError, match=r":10: extensions\[0\]: give exactly one"):
        parse_course(course_text(extra=extra), "course.yaml")


@pytest.mark.parametrize("extra", [
    "extensions:\n  - student: ann\n    assignment: 03_nope\n    extra: 36h\n",
    "excused:\n  - student: ann\n    assignment: 03_nope\n"])
def test_exception_for_unknown_assignment_is_refused(extra):
    with pytest.raises(ConfigError, match="for ann names unknown assignment '03_nope'"):
        parse_course(course_text(extra=extra))


def test_duration_forms():
    extra = "close_after_deadline: 90m\nextensions:\n  - student: ann\n    extra: 36h\n"
    course = parse_course(course_text(extra=extra))
    assert course.close_after_deadline == timedelta(minutes=90)
    assert course.extensions_for("ann", "02_tensor")[0].extra == timedelta(hours=36)
    assert course.extensions_for("bob", "02_tensor") == []


def test_repeated_assignment_id_is_refused():
    extra = ("milestones:\n  - id: 02_tensor\n    title: again\n    points: 1\n"
             "    deadline: 2027-01-29T23:59:00Z\n    rubric: x.yaml\n")
    with pytest.raises(ConfigError, match="repeated: 02_tensor"):
        parse_course(course_text(extra=extra))


def test_missing_rubric_file_is_reported_at_its_line(tmp_path):
    path = tmp_path / "course.yaml"
    path.write_text(course_text(), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_course(path)
    assert (caught.value.line, caught.value.field) == (8, "modules[0].rubric")
