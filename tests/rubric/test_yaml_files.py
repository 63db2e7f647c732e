"""Configuration errors must point at the file, line and field an instructor has to fix."""
import pytest
from pydantic import Field

from autograder import yaml_files
from autograder.yaml_files import ConfigError, ConfigModel


class Item(ConfigModel):
    id: str
    points: float = Field(ge=0)


class Doc(ConfigModel):
    checks: list[Item]


RUBRIC = """\
checks:
  - id: a
    points: 1
  - id: b
    points: -2
"""


def test_pydantic_error_names_file_line_and_field():
    with pytest.raises(ConfigError) as caught:
        yaml_files.parse(RUBRIC, "rubrics/02_tensor.yaml").validate(Doc)
    error = caught.value
    assert (error.path, error.line, error.field) == ("rubrics/02_tensor.yaml", 5, "checks[1].points")
    assert str(error).startswith("rubrics/02_tensor.yaml:5: checks[1].points: ")
    assert "greater than or equal to 0" in str(error)


def test_every_problem_is_reported_not_only_the_first():
    text = "checks:\n  - id: a\n    points: -1\n  - id: b\n    pointz: 1\n"
    with pytest.raises(ConfigError) as caught:
        yaml_files.parse(text, "r.yaml").validate(Doc)
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("r.yaml:3: checks[0].points")
    assert any(line.startswith("r.yaml:5: checks[1].pointz: Extra inputs") for line in lines)
    assert any(line.startswith("r.yaml:4: checks[1].points: Field required") for line in lines)


def test_duplicate_key_is_refused_with_both_lines():
    with pytest.raises(ConfigError, match=r"^r.yaml:3: points: duplicate key \(first given on line 1\)"):
        yaml_files.parse("points: 1\nid: x\npoints: 2\n", "r.yaml")


def test_syntax_error_has_a_line():
    with pytest.raises(ConfigError) as caught:
        yaml_files.parse("checks:\n  - id: [a\n  - id: b\n", "r.yaml")
    assert caught.value.line is not None and caught.value.line >= 2
    assert "not valid YAML" in caught.value.message


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        yaml_files.load(tmp_path / "absent.yaml", Doc)


def test_error_at_a_location_falls_back_to_the_enclosing_line():
    document = yaml_files.parse(RUBRIC, "r.yaml")
    assert document.error(("checks", 1, "id"), "unknown").line == 4
    assert document.error(("checks", 1, "nothing", 3), "x").line == 4
    assert str(document.error(("checks", 0), "bad")) == "r.yaml:2: checks[0]: bad"


def test_valid_file_loads(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("checks:\n  - id: a\n    points: 2.5\n", encoding="utf-8")
    assert yaml_files.load(path, Doc).checks[0].points == 2.5


def test_merge_keys_may_override_merged_values():
    text = "base: &b {id: a, points: 1}\nchecks:\n  - <<: *b\n    points: 2\n"
    document = yaml_files.parse(text, "r.yaml")
    assert document.data["checks"][0] == {"id": "a", "points": 2}
    assert document.line_of(("checks", 0, "points")) == 4


def test_nested_aliases_do_not_explode():
    text = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}]\n" for i in range(9))
    line = yaml_files.parse(text, "bomb.yaml").line_of(("j", 0, 0))  # 9**10 leaves if walked
    assert line == 9   # an alias points at its anchor's node, so at the anchor's line
