"""Grade one submission: claim it, fetch its commit with ``git archive``, run the checkpoint
suite of each module the course grades and each milestone it trains, score each with its
rubric, store it all at once.

Exactly once, whatever the broker does: the claim is a conditional update, so a second
delivery of the same job finds the submission claimed or done and does nothing; results
replace earlier ones in one transaction; and a job whose claim was taken over (its worker
presumed dead) stores nothing.  Infrastructure faults are recorded as ``infra_error``, never
as a zero, and raised so the task retries.
"""

import os
import re
import subprocess
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from autograder.course.stored import rubrics_for_grading
from autograder.models import CheckResult, Grade, Submission, SubmissionStatus, utcnow
from autograder.rubric import LoadedRubric, NotGradable, RubricMismatch, grade, load_rubric
from autograder.yaml_files import ConfigError
from contract.results import read_results
from harness.backends import BackendUnavailable, Limits
from harness.checkpoints.registry import declared_checks, suite_files
from harness.runner_client import Runner
from workers.import_probe import import_blocker
from workers.isolation import grade_isolated, still_broken, suite_runs
from workers.milestones.data import DatasetMissing
from workers.milestones.grading import ProgressNote, dataset_dir, grade_milestone, milestone_jobs
from workers.owners import current_owner, owner_is_dead
from harness.suite import run_suite, unrun_suite
from harness.student_text import clean, plain_data

PACKAGE = "tinytorch"
MAX_MESSAGE = 4000
_RUNNING = re.compile(r"^grading on (\S+:\d+)")
CLAIMABLE = (SubmissionStatus.queued, SubmissionStatus.infra_error)


class InfrastructureFault(RuntimeError):
    """The grader could not do its job (Docker, git, configuration): retry, never a zero."""


class SubmissionUnusable(ValueError):
    """The commit itself cannot be graded (e.g. it has no ``tinytorch/``): a result."""


@dataclass(frozen=True)
class ModuleJob:
    module_id: str
    rubric: LoadedRubric
    limits: Limits
    isolation: str = "best_of"     # course option, see workers/isolation.py


def running_detail(owner):
    return f"grading on {owner}"


def lost_owner(submission):
    """True when the submission is running for a worker process of this host that is dead."""
    found = _RUNNING.match(submission.status_detail or "")
    return submission.status == SubmissionStatus.running and bool(found) \
        and owner_is_dead(found.group(1))


def claim(session, submission_id, settings):
    """Take the submission for this process; returns the attempt number, or None when it is
    not ours to grade (unknown, done, running elsewhere, or given up)."""
    submission = session.get(Submission, submission_id)
    if submission is None:
        return None
    now = utcnow()
    stale = (submission.status == SubmissionStatus.running and submission.started_at is not None
             and submission.started_at < now - timedelta(seconds=settings.running_stale_s))
    lost = stale or lost_owner(submission)
    if submission.status not in CLAIMABLE and not lost:
        return None
    if lost and submission.attempts >= settings.max_lost_attempts:
        give_up(session, submission)
        return None
    attempt = submission.attempts + 1
    taken = session.execute(
        update(Submission)
        .where(Submission.id == submission_id, Submission.attempts == submission.attempts,
               Submission.status == submission.status)
        .values(status=SubmissionStatus.running, attempts=attempt, started_at=now,
                finished_at=None, retry_at=None, status_detail=running_detail(current_owner()))
        .execution_options(synchronize_session=False)).rowcount
    session.commit()
    return attempt if taken == 1 else None


def give_up(session, submission):
    """A job that killed its worker every time (or outlived the hard limit) is not retried
    for ever: recorded as an infrastructure error for staff to look at, never a zero."""
    session.execute(
        update(Submission)
        .where(Submission.id == submission.id, Submission.attempts == submission.attempts,
               Submission.status == SubmissionStatus.running)
        .values(status=SubmissionStatus.infra_error, finished_at=utcnow(),
                status_detail=f"given up after {submission.attempts} attempts: its worker was "
                              "lost or stopped at the time limit each time")
        .execution_options(synchronize_session=False))
    session.commit()


def _finish(session, submission_id, attempt, status, detail):
    """Set the final status if this attempt still owns the submission; True if it did."""
    done = session.execute(
        update(Submission)
        .where(Submission.id == submission_id, Submission.attempts == attempt,
               Submission.status == SubmissionStatus.running)
        .values(status=status, status_detail=clean(detail, MAX_MESSAGE), finished_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    return done == 1


def archive_commit(repo_dir, commit, package=PACKAGE):
    """A tar of ``package/`` at ``commit``: ``git archive`` reads objects only, so nothing of
    the student's (hooks, config, filters) runs, and nothing is checked out."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_CONFIG_GLOBAL": os.devnull, "HOME": os.devnull}

    def git(*args):
        return subprocess.run(["git", f"--git-dir={repo_dir}", *args], capture_output=True,
                              env=env, timeout=120)

    if not os.path.isdir(repo_dir):
        raise InfrastructureFault(f"repository {repo_dir} is missing")
    if git("cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        raise InfrastructureFault(f"commit {commit} is not in {repo_dir}")
    if not git("ls-tree", "--name-only", commit, "--", package).stdout.strip():
        raise SubmissionUnusable(f"commit {commit[:12]} has no {package}/ folder at its top "
                                 "level: nothing to grade")
    archived = git("archive", "--format=tar", commit, "--", package)
    if archived.returncode != 0:
        raise InfrastructureFault(f"git archive of {commit} failed: "
                                  f"{archived.stderr.decode(errors='replace').strip()}")
    return archived.stdout


def module_jobs(config, rubrics_dir):
    """The course's modules that have a checkpoint suite, each with its rubric and limits."""
    jobs = []
    for assignment in config.modules:
        if not suite_files(assignment.id):
            continue
        try:
            loaded = load_rubric(rubrics_dir / assignment.rubric)
        except (OSError, ConfigError) as exc:
            raise InfrastructureFault(f"rubric of {assignment.id} cannot be read: {exc}") from exc
        limits = loaded.rubric.limits(config.sandbox)
        jobs.append(ModuleJob(assignment.id, loaded, Limits(**limits.model_dump()),
                              config.isolation))
    return jobs


def check_time_budget(modules, milestones, budget_s):
    """The longest the job can take must fit the task's soft time limit, or a slow student
    would be cut off by the task instead of by each module's own limit: each module's
    ``wall_s`` once per run its isolation mode allows (twice for ``best_of``), each
    milestone's once."""
    isolated = sum(job.limits.wall_s * (suite_runs(job.isolation) - 1) for job in modules)
    needed = sum(job.limits.wall_s for job in [*modules, *milestones]) + isolated
    if needed > budget_s:
        raise InfrastructureFault(
            f"the course's modules and milestones may take {needed:.0f} s together "
            f"({isolated:.0f} s of it the second runs of isolation), more than the grading "
            f"task's soft time limit of {budget_s:.0f} s (AUTOGRADER_TASK_SOFT_LIMIT_S)")


def grade_modules(jobs, repo_tar, backend):
    """Every module's suite, in order; the first module's runner first probes the import
    (:mod:`workers.import_probe`): if it hangs, exits or is refused, every check of every
    module says so at once."""
    if not jobs:
        return []
    first = Runner(backend, jobs[0].limits, repo_tar)
    try:
        blocker = import_blocker(first)
    except BackendUnavailable as exc:
        first.close()
        raise InfrastructureFault(str(exc)) from exc
    if blocker or jobs[0].isolation == "reference":   # the first runner would go unused
        first.close()
    graded, broken = [], []
    for n, job in enumerate(jobs):
        graded.append(grade_module(job, repo_tar, backend, import_blocker=blocker,
                                   student_runner=None if blocker or n else first,
                                   broken_before=broken))
        if still_broken(graded[-1][0]):
            broken.append(job.module_id)
    return graded


def grade_module(job, repo_tar, backend, *, import_blocker=None, student_runner=None,
                 broken_before=()):
    """Run one module's suite (with isolation, :mod:`workers.isolation`) and score it;
    (results document, RubricGrade).  Given ``import_blocker`` (outcome, message), every check
    gets it instead of running."""
    def run(tar, own):
        return run_suite(job.module_id, tar, backend, job.limits,
                         student_runner=student_runner if own else None)

    try:
        if import_blocker:
            results = unrun_suite(job.module_id, backend, *import_blocker)
            return results, _score(job, results)
        return grade_isolated(job.module_id, job.isolation, repo_tar, run,
                              lambda results: _score(job, results), broken_before)
    except BackendUnavailable as exc:
        raise InfrastructureFault(str(exc)) from exc


def _score(job, results):
    try:
        scored = grade(job.rubric, results, [c.id for c in declared_checks(job.module_id)])
    except NotGradable as exc:
        raise InfrastructureFault(str(exc)) from exc
    except RubricMismatch as exc:
        raise InfrastructureFault(f"{job.module_id}: {exc}") from exc
    return scored


def _store(session, submission_id, attempt, graded):
    """Replace this submission's results for the graded modules, if the claim is still ours."""
    summary = "; ".join(f"{g.module}: {g.points:g}/{g.max_points:g}" for _, g in graded)
    if not _finish(session, submission_id, attempt, SubmissionStatus.graded,
                   summary or "no module of the course has a checkpoint suite yet"):
        session.rollback()
        return False
    for results, scored in graded:
        session.execute(delete(CheckResult).where(CheckResult.submission_id == submission_id,
                                                  CheckResult.module == scored.module))
        session.execute(delete(Grade).where(Grade.submission_id == submission_id,
                                            Grade.module == scored.module,
                                            Grade.rubric_version == scored.rubric_version))
        session.add_all(CheckResult(
            submission_id=submission_id, module=scored.module, check_id=check.id,
            description=clean(check.description), outcome=check.outcome,
            message=clean(check.message, MAX_MESSAGE), duration_s=check.duration_s,
            figures=plain_data(check.figures), visibility=check.visibility)
            for check in read_results(results).checks)
        session.add(Grade(submission_id=submission_id, module=scored.module,
                          points=scored.points, max_points=scored.max_points,
                          rubric_version=scored.rubric_version,
                          isolation=_isolation_entry(results)))
    session.commit()
    return True


def _isolation_entry(results):
    """The document's ``isolation`` entry (workers/isolation.py) as the Grade row keeps it:
    the pages and the API read its ``cause`` line; None for a milestone or an unrun suite."""
    entry = results.get("isolation")
    return None if entry is None else plain_data(entry)


def grade_submission(submission_id, sessions, settings, backend):
    """Grade one submission; returns its final status, or None when it was not ours to grade.

    Raises InfrastructureFault (after recording it) for the caller to retry.
    """
    try:
        with sessions() as session:
            attempt = claim(session, submission_id, settings)
            if attempt is None:
                return None
            submission = session.get(Submission, submission_id)
            repo_dir = settings.repos_dir / submission.repo.path
            commit = submission.commit_sha
            config, rubrics_dir = rubrics_for_grading(session, submission.course,
                                                      settings.rubrics_dir)
    except DBAPIError as exc:  # locked or unreachable: the job stays queued; retry it
        raise InfrastructureFault(f"the database could not be used: {exc.orig}") from exc
    try:
        jobs = module_jobs(config, rubrics_dir)
        milestones = _milestone_jobs(config, rubrics_dir)
        check_time_budget(jobs, milestones, settings.task_soft_limit_s)
        repo_tar = archive_commit(repo_dir, commit)
        graded = grade_modules(jobs, repo_tar, backend)
        if milestones:
            progress = ProgressNote(sessions, submission_id, attempt,
                                    running_detail(current_owner()))
            graded += [_grade_milestone(job, repo_tar, backend, progress, settings)
                       for job in milestones]
    except SubmissionUnusable as exc:
        return _record(sessions, submission_id, attempt, SubmissionStatus.failed, str(exc))
    except InfrastructureFault as exc:
        _record(sessions, submission_id, attempt, SubmissionStatus.infra_error, str(exc))
        raise
    except Exception as exc:  # a grader bug or the soft time limit: never a zero
        _record(sessions, submission_id, attempt, SubmissionStatus.infra_error,
                f"the grader stopped: {type(exc).__name__}: {exc}")
        raise
    try:
        with sessions() as session:
            stored = _store(session, submission_id, attempt, graded)
    except (SQLAlchemyError, UnicodeError, ValueError) as exc:
        # never a row left "grading" for hours: the reason is recorded and the job retried
        reason = f"the results could not be stored: {type(exc).__name__}: {exc}"
        _record(sessions, submission_id, attempt, SubmissionStatus.infra_error, reason)
        raise InfrastructureFault(clean(reason, MAX_MESSAGE)) from exc
    return SubmissionStatus.graded if stored else None


def _milestone_jobs(config, rubrics_dir):
    """The course's milestones (see :mod:`workers.milestones.grading`)."""
    try:
        return milestone_jobs(config, rubrics_dir)
    except (OSError, ConfigError) as exc:
        raise InfrastructureFault(f"a milestone rubric cannot be read: {exc}") from exc


def _grade_milestone(job, repo_tar, backend, progress, settings):
    try:
        return grade_milestone(job, repo_tar, backend, dataset_dir(settings), progress,
                               settings.milestone_plans.get(job.milestone_id))
    except (DatasetMissing, NotGradable, BackendUnavailable, RubricMismatch) as exc:
        raise InfrastructureFault(f"{job.milestone_id}: {exc}") from exc


def _record(sessions, submission_id, attempt, status, detail):
    with sessions() as session:
        stored = _finish(session, submission_id, attempt, status, detail)
        session.commit()
    return status if stored else None
