"""Project-wide fixtures: a Flask app on a fresh database and repos directory per test.

The schema is built once per session with the real Alembic migrations and copied per test,
which is much faster than migrating every time and still tests the migrations.
"""
from __future__ import annotations

import shutil

import pytest

from autograder import create_app
from autograder.db import upgrade_to_head
from deploy.stack import RedisServer
from tests.ci_skips import pytest_runtest_makereport  # noqa: F401 - the CI=true skip rule


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "template.sqlite3"
    upgrade_to_head(f"sqlite:///{path}")
    return path


@pytest.fixture
def app(tmp_path, migrated_database):
    database = tmp_path / "autograder.sqlite3"
    shutil.copyfile(migrated_database, database)
    app = create_app({
        "TESTING": True,
        "DATABASE_URL": f"sqlite:///{database}",
        "REPOS_DIR": str(tmp_path / "repos"),
        "BROKER_URL": None,
        "STARTER_DIR": None,
    })
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def redis_server(tmp_path):
    """The one throwaway redis-server of the tests (``deploy.stack.RedisServer``)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (deploy/install.sh installs it)")
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()
