"""The TinyTorch autograder service.

``create_app`` imports Flask inside the function so that workers and git hooks, which only
need ``autograder.models`` and ``autograder.db``, never pay for (or depend on) the web stack.
"""
from __future__ import annotations


def create_app(overrides: dict | None = None):
    """Build the Flask app: configuration (:mod:`autograder.settings`, then ``overrides``),
    database, hooks directory and blueprints."""
    from pathlib import Path

    from flask import Flask
    from flask_wtf.csrf import CSRFProtect

    from autograder import db
    from autograder.api import bp as api_bp
    from autograder.pushes.hooks_dir import install_hooks
    from autograder.git.http import bp as git_bp
    from autograder.git.quarantine import sweep_now_and_then
    from autograder.settings import Settings
    from autograder.web import bp as web_bp
    from autograder.web import secret_key

    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(Settings().flask_config(app.instance_path))
    app.config.update(overrides or {})      # tests: a database and repos of their own
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    secret_key.configure(app)
    install_hooks(Path(app.config["REPOS_DIR"]))
    sweep_now_and_then(Path(app.config["REPOS_DIR"]))    # pushes killed with the last run
    db.init_app(app)
    app.register_blueprint(git_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(web_bp)
    # Forms on the pages carry a CSRF token; git and the JSON API take HTTP Basic only.
    csrf = CSRFProtect(app)
    csrf.exempt(git_bp)
    csrf.exempt(api_bp)
    return app
