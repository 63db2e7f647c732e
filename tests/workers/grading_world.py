"""A grading world on disk: a migrated SQLite database, a course that grades 02_tensor, and
students whose bare repos hold a given ``tinytorch/`` (reference, starter, hostile)."""

import shutil
import subprocess
from pathlib import Path

from sqlalchemy import select

from autograder.course.stored import course_config, create_course
from autograder.db import make_engine, session_factory_for, upgrade_to_head
from autograder.git.repos import create_bare_repo, repo_relpath
from autograder.models import (CheckResult, Course, Membership, Repo, Role, Submission,
                               SubmissionStatus, User)
from workers import grading
from autograder.settings import CHECKOUT, Settings

MODULE = "02_tensor"
COURSE_YAML = f"""slug: workers-test
title: Worker tests
modules:
  - {{id: {MODULE}, title: Tensor, points: 20, deadline: '2099-01-01T00:00:00+00:00',
     rubric: {MODULE}.yaml}}
"""


def fresh_schema(database_url):
    """An empty, migrated PostgreSQL schema at ``database_url``."""
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()
    upgrade_to_head(database_url)


class GradingWorld:
    def __init__(self, root: Path, template_db: Path, database_url=None):
        """On a copy of the migrated SQLite ``template_db``, or on ``database_url`` (e.g.
        PostgreSQL), emptied and migrated."""
        self.root = root
        if database_url is None:
            self.database = root / "autograder.sqlite3"
            shutil.copyfile(template_db, self.database)
            database_url = f"sqlite:///{self.database}"
        else:
            fresh_schema(database_url)
        self.database_url = database_url
        self.repos_dir = root / "repos"
        self.rubrics_dir = root / "rubrics"
        self.rubrics_dir.mkdir()
        shutil.copyfile(CHECKOUT / "rubrics" / f"{MODULE}.yaml",
                        self.rubrics_dir / f"{MODULE}.yaml")
        (self.rubrics_dir / "course.yaml").write_text(COURSE_YAML)
        self.sessions = session_factory_for(self.database_url)
        with self.sessions() as session:
            self.course_id = create_course(session, self.rubrics_dir / "course.yaml").id

    def env(self, **extra):
        """The AUTOGRADER_* variables a worker for this world needs."""
        return {"AUTOGRADER_DATABASE_URL": self.database_url,
                "AUTOGRADER_REPOS_DIR": str(self.repos_dir),
                "AUTOGRADER_RUBRICS_DIR": str(self.rubrics_dir), **extra}

    def settings(self, **fields):
        """A worker's settings for this world, with ``fields`` (e.g. ``max_retries=2``)."""
        return Settings(**{"database_url": self.database_url, "repos_dir": self.repos_dir,
                           "rubrics_dir": self.rubrics_dir, **fields})

    def submit(self, login, package_dir, folder="tinytorch"):
        """A student whose repo's main holds ``package_dir`` as ``folder/``; returns the id
        of a queued Submission of that commit."""
        source = self.root / "sources" / login
        shutil.copytree(package_dir, source / folder, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__"))
        with self.sessions() as session:
            user = User(login=login, name=login)
            session.add(user)
            session.flush()
            session.add(Membership(course_id=self.course_id, user_id=user.id,
                                   role=Role.student))
            repo = Repo(course_id=self.course_id, owner_id=user.id,
                        path=repo_relpath("workers-test", login))
            session.add(repo)
            session.flush()
            create_bare_repo(self.repos_dir / repo.path, "main", source)
            commit = subprocess.run(["git", f"--git-dir={self.repos_dir / repo.path}",
                                     "rev-parse", "main"], capture_output=True, text=True,
                                    check=True).stdout.strip()
            submission = Submission(course_id=self.course_id, repo_id=repo.id,
                                    student_id=user.id, commit_sha=commit, branch="main",
                                    status=SubmissionStatus.queued)
            session.add(submission)
            session.commit()
            return submission.id

    def submission(self, submission_id):
        with self.sessions() as session:
            found = session.scalar(select(Submission).where(Submission.id == submission_id))
            found.checks, found.grades  # load before the session closes
            return found

    def graded_with(self, backend, submission_id):
        """(results document, RubricGrade) ``backend`` gives the submission's commit, outside
        any task: the yardstick for the sandboxed grade."""
        with self.sessions() as session:
            submission = session.get(Submission, submission_id)
            repo_tar = grading.archive_commit(self.repos_dir / submission.repo.path,
                                              submission.commit_sha)
            (job,) = grading.module_jobs(course_config(session.get(Course, self.course_id)),
                                         self.rubrics_dir)
        return grading.grade_module(job, repo_tar, backend)

    def requeue(self, submission_id):
        """What a TA's regrade does to the row."""
        with self.sessions() as session:
            session.get(Submission, submission_id).status = SubmissionStatus.queued
            session.commit()


def timed(figures):
    """Checks graded on a timing ratio can flip on a loaded machine; the rest cannot."""
    return "ratio_to_reference" in (figures or {})


def outcomes(checks):
    """``{check id: outcome}`` of the checks whose outcome does not depend on timing, from
    stored CheckResults or from a results document."""
    rows = [(c.check_id, c.outcome.value, c.figures) if isinstance(c, CheckResult)
            else (c["id"], c["outcome"], c.get("figures")) for c in checks]
    return {check_id: outcome for check_id, outcome, figures in rows if not timed(figures)}


def assert_all_pass(submission):
    """The reference's checks all pass (timing checks aside: they depend on the load)."""
    found = outcomes(submission.checks)
    assert len(found) > 10 and set(found.values()) == {"passed"}, found
