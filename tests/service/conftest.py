"""Service fixtures: two courses built through the real CLI, people with tokens, a live server.

``world`` holds course ``ml101`` with students alice and bob, TA ``ta1`` and instructor
``prof``, and course ``other101`` with TA ``ta2``; every token comes from the CLI output.
"""
from __future__ import annotations

import csv
import io
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from autograder.cli import main
from autograder.settings import CHECKOUT

MODULES = ("01_setup", "02_tensor")


def course_yaml(slug: str, deadline: str = "2099-01-29T23:59:00+00:00",
                close_after: str = "7d") -> str:
    modules = "\n".join(
        f"  - {{id: {m}, title: '{m}', points: 10, deadline: '{deadline}', rubric: {m}.yaml}}"
        for m in MODULES)
    return (f"slug: {slug}\ntitle: Course {slug}\ngraded_branch: main\n"
            f"close_after_deadline: {close_after}\nmodules:\n{modules}\n")


def write_course(directory: Path, slug: str, **kwargs) -> Path:
    """A course file beside copies of the shipped rubrics of ``MODULES``."""
    directory.mkdir(parents=True, exist_ok=True)
    for module in MODULES:
        shutil.copyfile(CHECKOUT / "rubrics" / f"{module}.yaml", directory / f"{module}.yaml")
    path = directory / "course.yaml"
    path.write_text(course_yaml(slug, **kwargs))
    return path


def tokens_from(output: str) -> dict[str, str]:
    return {row["login"]: row["token"] for row in csv.DictReader(io.StringIO(output))}


def invoke(runner, *args: str):
    result = runner.invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


@dataclass
class World:
    course: str = "ml101"
    other_course: str = "other101"
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, login: str) -> tuple[str, str]:
        return (login, self.tokens[login])


@pytest.fixture
def starter(tmp_path) -> Path:
    directory = tmp_path / "starter"
    (directory / "tinytorch").mkdir(parents=True)
    (directory / "tinytorch" / "__init__.py").write_text('"""Your TinyTorch."""\n')
    (directory / "README.md").write_text("Build TinyTorch here.\n")
    return directory


@pytest.fixture
def world(runner, tmp_path, starter) -> World:
    built = World()
    invoke(runner, "course", "create", write_course(tmp_path / "ml101", "ml101"))
    invoke(runner, "course", "create", write_course(tmp_path / "other101", "other101"))
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email,student_id,sis_id,section\n"
                      "Alice Liddell,alice@example.edu,alice,SIS1,A\n"
                      "Bob Builder,bob@example.edu,bob,SIS2,B\n")
    built.tokens.update(tokens_from(invoke(runner, "roster", "import", "ml101", roster,
                                           "--starter", starter).stdout))
    for course, login, role in (("ml101", "ta1", "ta"), ("ml101", "prof", "instructor"),
                                ("other101", "ta2", "ta")):
        built.tokens.update(tokens_from(invoke(runner, "staff", "add", course, login,
                                               "--name", login, "--role", role).stdout))
    return built


@pytest.fixture
def live_server(app):
    """The app on a loopback port, threaded like a real server."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
