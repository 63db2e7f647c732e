"""Fixtures for the grading tests: a real local backend and reference/starter submissions."""

import pytest

from autograder.starter import generate_starter
from tests.grading.submission_tars import package_files
from harness.backends.local import LocalBackend


@pytest.fixture(scope="session")
def backend():
    return LocalBackend()


@pytest.fixture(scope="session")
def reference_files():
    return package_files()


@pytest.fixture(scope="session")
def starter_dir(tmp_path_factory):
    return generate_starter(tmp_path_factory.mktemp("starter") / "repo")


@pytest.fixture(scope="session")
def starter_files(starter_dir):
    return package_files(starter_dir)
