"""The Alembic migrations build exactly the models' schema; configuration sources layer."""
from __future__ import annotations

from datetime import datetime, timezone

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from autograder import create_app
from autograder.course.course_file import parse_course
from autograder.course.stored import closing_time
from autograder.db import make_engine
from autograder.models import Base
from tests.service.conftest import course_yaml


def schema_differences(url: str) -> list:
    """What Alembic would still have to change to reach the models' schema."""
    engine = make_engine(url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    return differences


def test_migrations_match_the_models(migrated_database):
    assert schema_differences(f"sqlite:///{migrated_database}") == []


def test_file_then_environment_then_overrides(tmp_path, monkeypatch):
    settings = tmp_path / "autograder.toml"
    settings.write_text('MAX_PUSH_BYTES = 1000\nPUBLIC_URL = "https://file.example"\n'
                        f'REPOS_DIR = "{tmp_path / "repos"}"\n')
    monkeypatch.setenv("AUTOGRADER_CONFIG", str(settings))
    monkeypatch.setenv("AUTOGRADER_MAX_PUSH_BYTES", "2000")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
                      "BROKER_URL": "redis://override"})
    assert app.config["MAX_PUSH_BYTES"] == 2000            # environment beats the file
    assert app.config["PUBLIC_URL"] == "https://file.example"
    assert app.config["BROKER_URL"] == "redis://override"
    assert (tmp_path / "repos" / ".hooks" / "pre-receive").stat().st_mode & 0o111


def test_pushes_close_after_the_last_extended_deadline():
    text = course_yaml("c", deadline="2030-01-01T00:00:00+00:00", close_after="2d") + (
        "extensions:\n  - {student: alice, assignment: 02_tensor, extra: 3d}\n")
    config = parse_course(text)
    utc = timezone.utc
    assert closing_time(config, "bob") == datetime(2030, 1, 3, tzinfo=utc)
    assert closing_time(config, "alice") == datetime(2030, 1, 6, tzinfo=utc)
    assert closing_time(parse_course(course_yaml("c").replace(
        "close_after_deadline: 7d\n", "")), "bob") is None
