"""The CLI on bad input: a clear error naming the place, and nothing half-written."""
from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

from sqlalchemy import func, select

from autograder.cli import main
from autograder.db import get_session
from autograder.export.table import FORMULA_STARTS
from autograder.models import Course, Membership, Token, User
from autograder.tokens import authenticate, issue_token
from tests.service.conftest import invoke, tokens_from, write_course

HEADER = "name,email,student_id,sis_id,section\n"


def _count(app, model) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(model))


def _repos(app) -> list[Path]:
    root = Path(app.config["REPOS_DIR"])
    return sorted(p for p in root.rglob("*.git"))


def test_malformed_course_yaml_names_file_line_and_field(app, runner, tmp_path):
    path = write_course(tmp_path / "c", "ml101")
    path.write_text(path.read_text().replace("points: 10", "points: -3", 1))
    result = runner.invoke(main, ["course", "create", str(path)])
    assert result.exit_code != 0
    assert f"{path}:6: modules[0].points: Input should be greater than 0" in result.output
    assert _count(app, Course) == 0


def test_course_yaml_that_is_not_yaml_is_refused(app, runner, tmp_path):
    path = write_course(tmp_path / "c", "ml101")
    path.write_text("slug: [unclosed\n")
    result = runner.invoke(main, ["course", "create", str(path)])
    assert result.exit_code != 0 and "not valid YAML" in result.output
    assert _count(app, Course) == 0


def test_a_course_cannot_be_created_twice(app, runner, tmp_path):
    path = write_course(tmp_path / "c", "ml101")
    invoke(runner, "course", "create", path)
    again = runner.invoke(main, ["course", "create", str(path)])
    assert again.exit_code != 0 and "course 'ml101' already exists" in again.output
    assert _count(app, Course) == 1


def _course_and_roster(runner, tmp_path, roster: bytes) -> Path:
    invoke(runner, "course", "create", write_course(tmp_path / "c", "ml101"))
    path = tmp_path / "roster.csv"
    path.write_bytes(roster)
    return path


def _refused_roster(app, runner, tmp_path, roster: bytes, *options: str) -> str:
    path = _course_and_roster(runner, tmp_path, roster)
    result = runner.invoke(main, ["roster", "import", "ml101", str(path), *options])
    assert result.exit_code != 0
    assert _count(app, User) == 0 and _count(app, Membership) == 0 and _repos(app) == []
    return result.output.replace(str(path), "roster.csv")


def test_roster_missing_columns(app, runner, tmp_path):
    output = _refused_roster(app, runner, tmp_path, b"name,sis_id\nAlice,1\n")
    assert "roster.csv:1: missing column(s) email, student_id" in output


def test_roster_duplicate_columns(app, runner, tmp_path):
    output = _refused_roster(app, runner, tmp_path,
                             b"name,email,Student ID,student_id\nA,a@x,a,a\n")
    assert "roster.csv:1: column 'student_id' appears more than once" in output


def test_roster_duplicate_students_and_empty_fields_are_all_reported(app, runner, tmp_path):
    output = _refused_roster(app, runner, tmp_path, (
        HEADER + "Alice,alice@x.edu,alice,,\nAlicia,ALICE@x.edu,alice,,\n,e@x.edu,e,,\n"
        "Bad,b@x.edu,b/../../etc,,\n").encode())
    assert "roster.csv:3: duplicate student_id 'alice' (first on line 2)" in output
    assert "roster.csv:3: duplicate email 'ALICE@x.edu' (first on line 2)" in output
    assert "roster.csv:4: empty name" in output
    assert "roster.csv:5: student_id 'b/../../etc' may hold only letters" in output


def test_roster_that_is_not_utf8_names_the_line(app, runner, tmp_path):
    roster = (HEADER + "Alice,alice@x.edu,alice,,\n").encode() + \
        "José Núñez,jose@x.edu,jose,,\n".encode("latin-1")
    output = _refused_roster(app, runner, tmp_path, roster)
    assert "roster.csv:3: not valid utf-8-sig" in output and "--encoding" in output


def test_roster_in_latin1_imports_with_its_encoding(app, runner, tmp_path):
    path = _course_and_roster(runner, tmp_path,
                              (HEADER + "José Núñez,jose@x.edu,jose,,\n").encode("latin-1"))
    invoke(runner, "roster", "import", "ml101", path, "--encoding", "latin-1", "--empty")
    with app.app_context():
        assert get_session().scalar(select(User.name).where(User.login == "jose")) == \
            "José Núñez"


def test_roster_import_is_all_or_nothing_when_a_repo_cannot_be_made(app, runner, tmp_path):
    path = _course_and_roster(runner, tmp_path, (
        HEADER + "Alice,alice@x.edu,alice,,\nBob,bob@x.edu,bob,,\n").encode())
    blocker = Path(app.config["REPOS_DIR"]) / "ml101" / "bob.git"
    blocker.mkdir(parents=True)
    result = runner.invoke(main, ["roster", "import", "ml101", str(path), "--empty"])
    assert result.exit_code != 0
    assert "line 3: cannot create the repo of 'bob': repo already exists" in result.output
    assert _count(app, User) == 0 and _count(app, Token) == 0
    assert _repos(app) == [blocker]


def test_roster_import_twice_keeps_people_and_tokens(app, runner, tmp_path):
    path = _course_and_roster(runner, tmp_path, (HEADER + "Alice,alice@x.edu,alice,,\n").encode())
    first = tokens_from(invoke(runner, "roster", "import", "ml101", path, "--empty").stdout)
    second = invoke(runner, "roster", "import", "ml101", path, "--empty")
    assert tokens_from(second.stdout) == {}
    assert "already on the roster, unchanged: alice" in second.output
    with app.app_context():
        assert authenticate(get_session(), "alice", first["alice"]) is not None


def test_tokens_are_stored_only_as_hashes_and_rotation_revokes(app, runner, tmp_path):
    path = _course_and_roster(runner, tmp_path, (HEADER + "Alice,alice@x.edu,alice,,\n").encode())
    imported = invoke(runner, "roster", "import", "ml101", path, "--empty")
    old = tokens_from(imported.stdout)["alice"]
    database = Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))
    with app.app_context():
        get_session().close()
    assert old.encode() not in database.read_bytes()
    new = tokens_from(invoke(runner, "token", "rotate", "alice").stdout)["alice"]
    with app.app_context():
        session = get_session()
        assert authenticate(session, "alice", old) is None
        assert authenticate(session, "alice", new).login == "alice"


def test_unknown_course_is_a_clear_error(runner, tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(HEADER)
    result = runner.invoke(main, ["roster", "import", "nope", str(path)])
    assert result.exit_code != 0 and "no course 'nope'" in result.output


def test_repos_are_seeded_with_the_generated_starter_by_default(app, runner, tmp_path):
    path = _course_and_roster(runner, tmp_path, (HEADER + "Alice,alice@x.edu,alice,,\n").encode())
    invoke(runner, "roster", "import", "ml101", path)
    repo = Path(app.config["REPOS_DIR"]) / "ml101" / "alice.git"
    files = subprocess.run(["git", f"--git-dir={repo}", "ls-tree", "-r", "--name-only", "main"],
                           capture_output=True, text=True, check=True).stdout.split()
    assert "tinytorch/core/tensor.py" in files and "README.md" in files
    assert not any("hidden" in name for name in files)


def test_the_token_csv_is_written_like_the_exports_no_cell_runs_as_a_formula(runner, tmp_path):
    roster = HEADER + '"=HYPERLINK(""http://evil"")",eve@x.edu,eve,,\n' + \
        "+Plus Name,pat@x.edu,pat,,\n"
    path = _course_and_roster(runner, tmp_path, roster.encode())
    printed = invoke(runner, "roster", "import", "ml101", path, "--empty").stdout
    rows = {row["login"]: row for row in csv.DictReader(io.StringIO(printed))}
    assert rows["eve"]["name"] == '="=HYPERLINK(""http://evil"")"'
    assert rows["pat"]["name"] == '="+Plus Name"'
    assert not any(row["token"].startswith(FORMULA_STARTS) for row in rows.values())


def test_tokens_never_start_like_a_formula(app):
    with app.app_context():
        session = get_session()
        user = User(login="many", name="Many")
        session.add(user)
        session.flush()
        assert not any(issue_token(session, user).startswith("-") for _ in range(300))


def test_course_create_runs_every_check_and_creates_nothing_when_any_fails(app, runner,
                                                                          tmp_path):
    course_file = write_course(tmp_path / "bad", "bad101")
    original = course_file.read_text()
    setup, tensor = (tmp_path / "bad" / f"{m}.yaml" for m in ("01_setup", "02_tensor"))
    setup.write_text(setup.read_text().replace('"setup.report.*"', '"setup.reprot.*"'))
    tensor.write_text(tensor.read_text() + "weigth: 2\n")
    course_file.write_text(course_file.read_text().replace("02_tensor.yaml", "01_setup.yaml")
                           + "extensions:\n  - {student: nobody, extra: 2d}\n")
    result = runner.invoke(main, ["course", "create", str(course_file)])
    assert result.exit_code == 1, result.output
    assert f"{setup}:15: checks[0].match: " in result.output      # the typo'd check id
    assert "the course file uses this rubric for '02_tensor'" in result.output
    assert f"{course_file}:9: extensions[0].student: 'nobody' is not a student of course " \
           "bad101" in result.output
    course_file.write_text(original)
    assert "weigth: Extra inputs are not permitted" in runner.invoke(
        main, ["course", "create", str(course_file)]).output
    course_file.write_text(original.replace("graded_branch: main", "graded_branch: main branch"))
    assert f"{course_file}:3: graded_branch: 'main branch' is not a git branch name" \
        in runner.invoke(main, ["course", "create", str(course_file)]).output
    assert _count(app, Course) == 0
