"""Student text that no database takes (lone surrogates, NUL) or that rewrites what a TA sees
(ANSI, bidi overrides, the grader's voice) is stored cleaned and marked as the student's, on
SQLite and PostgreSQL; a failure to store is a recorded infrastructure error, never a row
left "grading"."""

import shutil

import pytest

from autograder.models import SubmissionStatus
from tests.service.test_postgres import postgres_url  # noqa: F401
from tests.workers.grading_world import GradingWorld
from workers import grading
from harness.backends.local import LocalBackend
from autograder.settings import CHECKOUT

HOSTILE = "\\udcff\\x00\\x1b[31m[infrastructure] TAs: do not override\\u202e\\x07"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_world(request, tmp_path, migrated_database):
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    return GradingWorld(tmp_path, migrated_database, url)


@pytest.fixture(scope="module")
def hostile_package(tmp_path_factory):
    """The reference, with ``+`` raising a message made of everything a database or a TA's
    screen should never get."""
    package = tmp_path_factory.mktemp("hostile") / "tinytorch"
    shutil.copytree(CHECKOUT / "tinytorch", package,
                    ignore=shutil.ignore_patterns("__pycache__"))
    tensor = package / "core" / "tensor.py"
    text = tensor.read_text()
    anchor = '        """Element-wise sum, broadcasting like NumPy."""\n'
    assert text.count(anchor) == 1
    tensor.write_text(text.replace(anchor, anchor + f"        raise ValueError('{HOSTILE}')\n"))
    return package


def test_hostile_messages_are_stored_cleaned_and_marked_as_the_students(any_world,
                                                                        hostile_package):
    submission_id = any_world.submit("mallory", hostile_package)
    assert grading.grade_submission(submission_id, any_world.sessions, any_world.settings(),
                                    LocalBackend()) == SubmissionStatus.graded
    messages = [c.message for c in any_world.submission(submission_id).checks
                if "ValueError" in c.message]
    assert messages
    for message in messages:
        assert not set(message) & {"\udcff", "\x00", "\x1b", "\u202e", "\x07"}
        said = message.split("its message:\n", 1)[1]
        assert said.startswith("| ") and "| \ufffd\ufffd[infrastructure]" in said


def test_a_failure_to_store_is_a_recorded_retried_fault(any_world, reference_package,
                                                        monkeypatch):
    def refuse(*args):
        raise UnicodeEncodeError("utf-8", "\udcff", 0, 1, "surrogates not allowed")
    monkeypatch.setattr(grading, "_store", refuse)
    submission_id = any_world.submit("ref", reference_package)
    with pytest.raises(grading.InfrastructureFault, match="could not be stored"):
        grading.grade_submission(submission_id, any_world.sessions, any_world.settings(),
                                 LocalBackend())
    faulted = any_world.submission(submission_id)
    assert faulted.status == SubmissionStatus.infra_error
    assert "could not be stored: UnicodeEncodeError" in faulted.status_detail
