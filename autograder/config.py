"""Service configuration: defaults, then a TOML file, then ``AUTOGRADER_*`` variables.

Later sources win, so an operator can keep a file and still override one value per process
(e.g. in a compose file). Values from the environment are parsed as JSON when they can be
(``AUTOGRADER_MAX_PUSH_BYTES=1000000`` is an int), as Flask's ``from_prefixed_env`` does.
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path

ENV_PREFIX = "AUTOGRADER"
CONFIG_FILE_VARIABLE = "AUTOGRADER_CONFIG"


def defaults(instance_path: str) -> dict:
    """Settings that work out of the box: everything under the Flask instance folder."""
    base = Path(instance_path)
    return {
        "DATABASE_URL": f"sqlite:///{base / 'autograder.sqlite3'}",
        "REPOS_DIR": str(base / "repos"),
        "STARTER_DIR": None,          # directory copied into every new student repo
        "BROKER_URL": None,           # Celery broker; None: submissions wait in the database
        "MAX_PUSH_BYTES": 200 * 1024 * 1024,
        "PUBLIC_URL": None,           # base of result links shown to students; None: request host
        "GIT_BINARY": "git",
        "API_PAGE_SIZE_MAX": 200,
    }


def load_into(app, overrides: dict | None = None) -> None:
    """Fill ``app.config`` from defaults, the optional TOML file, the environment, overrides."""
    app.config.from_mapping(defaults(app.instance_path))
    config_file = os.environ.get(CONFIG_FILE_VARIABLE)
    if config_file:
        app.config.from_file(config_file, load=tomllib.load, text=False)
    app.config.from_prefixed_env(ENV_PREFIX)
    app.config.update(overrides or {})
