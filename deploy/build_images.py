"""Build the service image (and a Redis image) for deploy/compose.yaml with no registry.

    python3 -m deploy.build_images [--tag tinytorch-autograder:latest] [--redis-tag ...]

Both build FROM the Debian base that ``deploy/build_sandbox.py`` makes with debootstrap
(nothing is pulled).  The service image's Python wheels are downloaded on the host (which
reaches PyPI) into a build context holding only what the image needs, and installed in the
build with ``--no-index``.  Docker's layer cache makes a rebuild with unchanged inputs quick.
With a registry, ``docker build -f deploy/Dockerfile .`` builds the same image on
``python:3.11-slim``, and compose uses the official ``redis`` and ``postgres`` images.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from deploy.build_sandbox import REPO, WHEEL_PLATFORM, BuildError, ensure_base, run

APP_TAG = "tinytorch-autograder:latest"
REDIS_TAG = "tinytorch-redis:latest"
SOURCE_DIRS = ("autograder", "workers", "harness", "sandbox", "contract", "tinytorch", "milestones",
               "rubrics")
POSTGRES_DRIVER = "psycopg[binary]>=3.1"
# pip download evaluates dependency markers with the host's Python, not the base's (Debian
# bookworm's 3.11.2), so what only older 3.11 releases need is fetched explicitly:
# redis needs async-timeout below Python 3.11.3.
FOR_BASE_PYTHON = ("async-timeout>=4.0.3",)


def requirements() -> list[str]:
    """What the image installs: the project's dependencies and its grader extra (the same
    list the Dockerfile reads from pyproject.toml), plus the PostgreSQL driver."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["grader"],
            POSTGRES_DRIVER]


def stage_app_context(dest: Path) -> None:
    for name in SOURCE_DIRS:
        shutil.copytree(REPO / name, dest / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copyfile(REPO / "pyproject.toml", dest / "pyproject.toml")
    (dest / "deploy").mkdir()
    for name in ("Dockerfile", "constraints.txt"):
        shutil.copyfile(REPO / "deploy" / name, dest / "deploy" / name)
    run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
         *WHEEL_PLATFORM, "-d", str(dest / "deploy" / "wheels"), *requirements(),
         *FOR_BASE_PYTHON, "-c", str(REPO / "deploy" / "constraints.txt")],
        "pip download of the service's wheels")


def build_app(base: str, tag: str) -> None:
    with tempfile.TemporaryDirectory(prefix="tinytorch-app-context-") as tmp:
        stage_app_context(Path(tmp))
        run(["docker", "build", "--quiet", "--file", "deploy/Dockerfile", "--build-arg",
             f"BASE={base}", "--build-arg", "PIP_OFFLINE=--no-index", "--tag", tag, "."],
            "docker build of the service image", cwd=tmp)


def build_redis(base: str, tag: str) -> None:
    with tempfile.TemporaryDirectory(prefix="tinytorch-redis-context-") as tmp:
        shutil.copyfile(REPO / "deploy" / "redis.Dockerfile", Path(tmp) / "Dockerfile")
        run(["docker", "build", "--quiet", "--build-arg", f"BASE={base}", "--tag", tag, "."],
            "docker build of the Redis image", cwd=tmp)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tag", default=APP_TAG, help="service image name")
    parser.add_argument("--redis-tag", default=REDIS_TAG, help="Redis image name")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        base = ensure_base()
        build_app(base, args.tag)
        build_redis(base, args.redis_tag)
    except BuildError as exc:
        print(f"build_images: {exc}", file=sys.stderr)
        return 1
    print(f"{args.tag} and {args.redis_tag} ready in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
