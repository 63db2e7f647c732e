"""``autograder export`` inside a real app on the seeded SQLite database."""
import pytest

from autograder import create_app
from autograder.export.cli import export


@pytest.fixture
def cli(tmp_path, database_url, course):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "BROKER_URL": None,
                      "REPOS_DIR": str(tmp_path / "repos"), "STARTER_DIR": None})
    return lambda *args: app.test_cli_runner().invoke(export, list(args))


def test_canvas_export_to_stdout_with_section_filter(cli):
    result = cli("--course", "demo", "--format", "canvas", "--section", "B")
    assert result.exit_code == 0, result.output
    rows = result.output.splitlines()
    assert rows[1].startswith("    Points Possible,")
    assert [row.split(",")[-4] for row in rows[2:]] == ["s4", "s2"]


def test_export_to_a_file(cli, tmp_path):
    target = tmp_path / "grades.csv"
    result = cli("--course", "demo", "--format", "plain", "--percent", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert "s1,\"Doe, Jane\",jane@example.edu,N-s1,SIS1,A,100.00,65.00" in \
        target.read_text(encoding="utf-8")


def test_unknown_course_and_unmatchable_students_are_clear_errors(cli):
    missing = cli("--course", "nope")
    assert missing.exit_code == 1 and "no course 'nope'" in missing.output
    moodle = cli("--course", "demo", "--format", "moodle")
    assert moodle.exit_code == 1 and "have no email address: s4" in moodle.output
