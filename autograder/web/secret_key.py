"""The key that signs the pages' session cookies and CSRF tokens.

``AUTOGRADER_SECRET_KEY`` when the operator sets it; otherwise a random key kept in the Flask
instance folder, created once, so every gunicorn worker (and a restart) signs with the same
key and logged-in people stay logged in.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

FILE_NAME = "secret_key"


def load_or_create(instance_path: str) -> str:
    path = Path(instance_path) / FILE_NAME
    if not path.exists():
        draft = path.with_name(f"{FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}")
        draft.write_text(secrets.token_hex(32))
        draft.chmod(0o600)
        try:
            os.link(draft, path)   # atomic and refuses to replace: the first worker wins
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def configure(app) -> None:
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_or_create(app.instance_path)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid as long as the session
