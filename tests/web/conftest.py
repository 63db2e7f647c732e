"""The pages in a real browser against the real system: redis-server, the API under
gunicorn and a Celery worker (``deploy.stack``), students pushing with real git, chromium
driven by Selenium. One system, one graded class and one browser for the whole session
(the CI budget); each test logs in afresh through the login form.

The worker runs student code with the local backend: these tests are about the pages, the
repos are the project's own, and tests/e2e covers the Docker sandbox.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from deploy.browser import browser_problem, chromium, full_page_screenshot
from deploy.screenshots import course_file, graded_class
from deploy.stack import LocalStack


@pytest.fixture(scope="session")
def web_stack(tmp_path_factory):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (deploy/install.sh installs it)")
    root = tmp_path_factory.mktemp("web-stack")
    course = course_file(root / "rubrics", "web-pages")
    with LocalStack(root / "stack", sandbox="local", rubrics_dir=root / "rubrics",
                    concurrency=1) as stack:
        yield stack, course


@pytest.fixture(scope="session")
def graded(web_stack, tmp_path_factory):
    stack, course = web_stack
    return graded_class(stack, course, tmp_path_factory.mktemp("students"))


@pytest.fixture(scope="session")
def downloads(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="session")
def driver(downloads):
    problem = browser_problem()
    if problem:
        pytest.skip(problem)
    browser = chromium(download_dir=downloads)
    yield browser
    browser.quit()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> Path:
    """Screenshots of every browser test: $WEB_TEST_ARTIFACTS (for CI to keep) or a temp dir."""
    folder = os.environ.get("WEB_TEST_ARTIFACTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def shot(driver, artifacts, request):
    """``shot("step")`` saves the page as <test>-<step>.png; the end state is always saved."""
    name = re.sub(r"[^\w-]+", "_", request.node.name)

    def take(step: str) -> Path:
        return full_page_screenshot(driver, artifacts / f"{name}-{step}.png")
    yield take
    take("end")
