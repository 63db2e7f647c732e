"""Declared check ids (read without running anything), suite validation, the report."""

import io
import textwrap

import pytest

from harness.backends.local import LocalBackend
from harness.checkpoints.registry import SuiteDefinitionError, declared_checks
from harness.checkpoints.registry import modules_with_suites
from harness.selfcheck import Report, resolve_module
from harness.suite import run_suite


def test_module_02_declares_stable_unique_ids_with_descriptions():
    checks = declared_checks("02_tensor")
    ids = [c.id for c in checks]
    assert len(ids) == len(set(ids)) and "tensor.add.broadcast" in ids
    assert {c.visibility for c in checks} == {"public", "hidden"}
    assert all(c.description and "\n" not in c.description for c in checks)
    assert [c.id for c in declared_checks("02_tensor", ("public",))] == \
        [c.id for c in checks if c.visibility == "public"]
    assert "02_tensor" in modules_with_suites()


def write_suite(root, visibility, name, body):
    folder = root / visibility
    folder.mkdir(parents=True, exist_ok=True)
    (root / "pytest.ini").write_text("[pytest]\n")
    (folder / name).write_text("from harness.checkpoints import check\n\n"
                               + textwrap.dedent(body))


@pytest.mark.parametrize("body, reason", [
    ("def test_a(student):\n    pass\n", r"test_77_x.py:3: test_a needs exactly one @check"),
    ("@check('x.a', 'one', 'hidden')\ndef test_a(student):\n    pass\n",
     r"x.a is hidden but lives in public/"),
    ("@check('x.a', 'one', 'public')\ndef test_a(student):\n    pass\n"
     "@check('x.a', 'two', 'public')\ndef test_b(student):\n    pass\n",
     r"test_77_x.py:6: check id x.a already used at .*test_77_x.py:3"),
    ("ID = 'x.a'\n@check(ID, 'one', 'public')\ndef test_a(student):\n    pass\n",
     r"@check takes three literal strings"),
    ("@check('Not An Id', 'one', 'public')\ndef test_a(student):\n    pass\n",
     r"must be dotted lower-case words"),
    ("@check('x.a', 'one', 'public')\ndef test_a(student, reference):\n    pass\n",
     r"public check x.a uses the reference"),
])
def test_malformed_suites_are_refused_naming_file_and_line(tmp_path, body, reason):
    write_suite(tmp_path, "public", "test_77_x.py", body)
    with pytest.raises(SuiteDefinitionError, match=reason):
        declared_checks("77_x", root=tmp_path)
    with pytest.raises(SuiteDefinitionError):
        run_suite("77_x", b"", LocalBackend(), suites_dir=tmp_path, reference=None)


def test_a_suite_that_does_not_import_is_an_infrastructure_error(tmp_path):
    write_suite(tmp_path, "public", "test_77_x.py", "import no_such_module_here\n")
    result = run_suite("77_x", b"", LocalBackend(), suites_dir=tmp_path, reference=None)
    assert "no_such_module_here" in result["infrastructure_error"]
    assert result["checks"] == []


def test_unknown_module_has_no_suite():
    with pytest.raises(ValueError, match="no checkpoint suite for module '99_nothing'"):
        run_suite("99_nothing", b"", LocalBackend())


def test_report_draws_a_progress_bar_and_colours_outcomes():
    out = io.StringIO()
    report = Report(out, colour=True, live=True)
    report.on_result({"id": "t.a", "description": "adds", "outcome": "failed",
                      "message": "got 1\nexpected 2"}, 1, 4)
    text = out.getvalue()
    assert "\033[31mFAIL\033[0m t.a: adds" in text and "expected 2" in text
    assert text.endswith("[#######.......................] 1/4")
    score = report.summary({"infrastructure_error": None, "checks": [
        {"outcome": "passed"}, {"outcome": "failed"}, {"outcome": "passed"},
        {"outcome": "timeout"}]})
    assert score == 50.0 and "score 50%" in out.getvalue()


def test_module_names_resolve_by_number_name_or_id():
    available = ["02_tensor", "03_activations"]
    assert {resolve_module(n, available) for n in ("02", "tensor", "02_tensor")} == {"02_tensor"}
    with pytest.raises(SystemExit, match="unknown module '05'"):
        resolve_module("05", available)
