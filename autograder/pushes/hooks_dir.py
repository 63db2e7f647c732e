"""The shared hooks directory that every repo uses through ``core.hooksPath``.

Hooks are not written into each repo: the endpoint points git at this one directory, so
changing the hooks never needs a pass over every student repo.
"""
from __future__ import annotations

from pathlib import Path

HOOK_NAMES = ("pre-receive", "post-receive")
HOOK_CLIENT = Path(__file__).with_name("hook_client.py")


def hooks_dir(repos_dir: Path) -> Path:
    return repos_dir / ".hooks"


def install_hooks(repos_dir: Path) -> Path:
    """Write the hook scripts (idempotent); they run the standard-library-only hook client,
    which hands the push to the API process (``autograder.pushes.decide``)."""
    directory = hooks_dir(repos_dir)
    directory.mkdir(parents=True, exist_ok=True)
    for name in HOOK_NAMES:
        script = directory / name
        text = f'#!/bin/sh\nexec "$AUTOGRADER_PYTHON" -I -S "$AUTOGRADER_HOOK_CLIENT" {name}\n'
        if not script.exists() or script.read_text() != text:
            script.write_text(text)
        script.chmod(0o755)
    return directory
