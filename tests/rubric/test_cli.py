"""``autograder rubric check`` through click's runner, on files in a temporary directory."""
import json

from click.testing import CliRunner

from autograder.rubric.cli import rubric
from tests.rubric.made_up_module import CHECK_IDS, RUBRIC_TEXT, all_passed, check, results


def run(*args):
    return CliRunner().invoke(rubric, ["check", *map(str, args)])


def test_valid_rubric_against_id_list(tmp_path):
    (tmp_path / "r.yaml").write_text(RUBRIC_TEXT, encoding="utf-8")
    (tmp_path / "ids.txt").write_text("# suite\n" + "\n".join(CHECK_IDS) + "\n", encoding="utf-8")
    result = run(tmp_path / "r.yaml", "--checks", tmp_path / "ids.txt")
    assert result.exit_code == 0, result.output
    assert "ok, 02_tensor version 3+" in result.output and "8 checks scored" in result.output


def test_ids_from_a_results_document(tmp_path):
    (tmp_path / "r.yaml").write_text(RUBRIC_TEXT, encoding="utf-8")
    (tmp_path / "run.json").write_text(json.dumps(all_passed()), encoding="utf-8")
    assert run(tmp_path / "r.yaml", "--checks", tmp_path / "run.json").exit_code == 0


def test_unknown_pattern_fails_with_file_and_line(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(RUBRIC_TEXT.replace("tensor.add.*", "tensor.sub.*"), encoding="utf-8")
    (tmp_path / "ids.txt").write_text("\n".join(CHECK_IDS), encoding="utf-8")
    result = run(path, "--checks", tmp_path / "ids.txt")
    assert result.exit_code == 1
    assert f"{path}:7: checks[1].match: 'tensor.sub.*' matches no check" in result.output


def test_schema_error_fails_and_other_files_are_still_checked(tmp_path):
    bad, good = tmp_path / "bad.yaml", tmp_path / "good.yaml"
    bad.write_text(RUBRIC_TEXT.replace("points: 3", "points: -3"), encoding="utf-8")
    # a module with no checkpoint suite: only its schema can be checked
    good.write_text(RUBRIC_TEXT.replace("module: 02_tensor", "module: zz_no_suite"),
                    encoding="utf-8")
    result = run(bad, good)
    assert result.exit_code == 1
    assert f"{bad}:10: checks[2].points: Input should be greater than or equal to 0" in result.output
    assert f"{good}: ok" in result.output and "schema only" in result.output


def test_course_option_checks_every_rubric_and_its_module_id(tmp_path):
    (tmp_path / "r.yaml").write_text(RUBRIC_TEXT.replace("module: 02_tensor", "module: 03_x"),
                                     encoding="utf-8")
    (tmp_path / "course.yaml").write_text(
        "slug: c\ntitle: C\nmodules:\n  - id: 02_tensor\n    title: T\n    points: 5\n"
        "    deadline: 2027-01-01T00:00:00Z\n    rubric: r.yaml\n", encoding="utf-8")
    result = run("--course", tmp_path / "course.yaml")
    assert result.exit_code == 1
    assert f"{tmp_path / 'r.yaml'}:1: module: the course file uses this rubric for '02_tensor'" \
        in result.output


def test_nothing_to_check_is_a_usage_error():
    assert CliRunner().invoke(rubric, ["check"]).exit_code == 2


def test_without_checks_option_the_real_suite_declares_the_ids(tmp_path, monkeypatch):
    monkeypatch.setattr("autograder.rubric.cli.suite_check_ids",
                        lambda module: CHECK_IDS if module == "02_tensor" else None)
    (tmp_path / "r.yaml").write_text(RUBRIC_TEXT.replace("tensor.add.*", "tensor.sub.*"),
                                     encoding="utf-8")
    result = run(tmp_path / "r.yaml")
    assert result.exit_code == 1 and "'tensor.sub.*' matches no check" in result.output


def test_malformed_checks_file_is_a_clear_usage_error(tmp_path):
    (tmp_path / "r.yaml").write_text(RUBRIC_TEXT, encoding="utf-8")
    (tmp_path / "run.json").write_text('{"checks": [{"name": "x"}]}', encoding="utf-8")
    result = run(tmp_path / "r.yaml", "--checks", tmp_path / "run.json")
    assert result.exit_code == 2 and "not a suite results document" in result.output


def test_grade_prints_the_breakdown(tmp_path):
    (tmp_path / "r.yaml").write_text(RUBRIC_TEXT.replace("module: 02_tensor", "module: zz_no_suite"),
                                     encoding="utf-8")
    document = all_passed(**{"tensor.add.broadcast": check("tensor.add.broadcast", "timeout",
                                                           "took over 10 s")})
    document["module"] = "zz_no_suite"
    (tmp_path / "run.json").write_text(json.dumps(document), encoding="utf-8")
    result = CliRunner().invoke(rubric, ["grade", str(tmp_path / "r.yaml"),
                                         str(tmp_path / "run.json")])
    assert result.exit_code == 0, result.output
    assert "   0.00 / 2.00    timeout  tensor.add.broadcast  -- took over 10 s" in result.output
    assert result.output.rstrip().splitlines()[-1].startswith("  11.00 / 13.00   zz_no_suite")


def test_grade_refuses_an_infrastructure_error(tmp_path):
    (tmp_path / "r.yaml").write_text(RUBRIC_TEXT, encoding="utf-8")
    document = results([], infrastructure_error="image missing")
    (tmp_path / "run.json").write_text(json.dumps(document), encoding="utf-8")
    result = CliRunner().invoke(rubric, ["grade", str(tmp_path / "r.yaml"),
                                         str(tmp_path / "run.json")])
    assert result.exit_code == 1 and "not gradable" in result.output
    assert "image missing" in result.output
