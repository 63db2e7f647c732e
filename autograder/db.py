"""Engine and session factory, usable with or without a Flask app.

Workers and git hooks run in their own processes and only need a database URL, so nothing
here imports Flask; ``init_app`` is the thin bridge the app factory uses.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def make_engine(url: str) -> Engine:
    """An engine; for SQLite, foreign keys on and writers wait instead of failing.

    The web process, git hooks and workers write to the same SQLite file at once, so WAL and a
    busy timeout turn lock contention into short waits rather than "database is locked".
    """
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit (handy for printing results)."""
    return sessionmaker(engine, expire_on_commit=False)


def session_factory_for(url: str) -> sessionmaker[Session]:
    """One call for processes that only have a URL (hooks, workers)."""
    return make_session_factory(make_engine(url))


def upgrade_to_head(url: str) -> None:
    """Apply every Alembic migration to the database at ``url``."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")


def init_app(app) -> None:
    """Attach a session factory to ``app``; one session per app context, closed at teardown."""
    from flask import g

    factory = make_session_factory(make_engine(app.config["DATABASE_URL"]))
    app.extensions["autograder.sessions"] = factory

    @app.teardown_appcontext
    def _close_session(_exc):
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def get_session() -> Session:
    """The current app context's session (created on first use)."""
    from flask import current_app, g

    if "db_session" not in g:
        g.db_session = current_app.extensions["autograder.sessions"]()
    return g.db_session
