"""What the server-side git hooks decide, served inside the API process.

pre-receive decides the whole push (all refs or none) and commits one Submission per updated
graded-branch head *before* git updates any ref, so an acknowledged push is never lost.
post-receive runs once the objects are out of git's quarantine (a worker can read them) and
enqueues this repo's queued submissions. git relays what they print as ``remote:`` lines.

git runs ``autograder/pushes/hook_client.py`` as the hook; it reaches ``answer`` through
``autograder.pushes.bridge``, a socket pair the API process handed to ``git http-backend``
for this one push, so the repo and the configuration come from the authorised request, never
from the hook's environment.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from autograder.course.stored import submissions_closed_reason
from autograder.models import Repo, Submission, SubmissionStatus, utcnow
from autograder.queue import enqueue

ZERO_SHA = "0" * 40
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefUpdate:
    old: str
    new: str
    ref: str
    fast_forward: bool = True     # judged by the hook, which sees the quarantined objects

    @property
    def branch(self) -> str | None:
        return self.ref.removeprefix("refs/heads/") if self.ref.startswith("refs/heads/") else None


@dataclass
class HookOutput:
    """What the hook prints: ``remote:`` lines for the student, and its exit code."""
    code: int = 0
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)

    def say(self, line: str) -> None:
        self.stdout.append(line)

    def refuse(self, line: str) -> None:
        self.stderr.append(line)
        self.code = 1

    def as_reply(self) -> dict:
        return {"code": self.code, "stdout": "".join(f"{line}\n" for line in self.stdout),
                "stderr": "".join(f"{line}\n" for line in self.stderr)}


def refusals(updates: list[RefUpdate], graded_branch: str, closed_reason: str | None) -> list[str]:
    """Why this push may not land; empty when it may."""
    reasons = []
    for update in updates:
        if update.branch is None and not update.ref.startswith("refs/tags/"):
            reasons.append(f"{update.ref}: only branches and tags can be pushed")
        if update.branch != graded_branch:
            continue
        if update.new == ZERO_SHA:
            reasons.append(f"{graded_branch}: the graded branch cannot be deleted")
        elif not update.fast_forward:
            reasons.append(f"{graded_branch}: force-push refused, it would rewrite graded "
                           f"history; pull, merge and push again")
        elif closed_reason:
            reasons.append(f"{graded_branch}: {closed_reason}")
    return reasons


def pre_receive(session: Session, repo: Repo, updates: list[RefUpdate], public_url: str,
                out: HookOutput) -> None:
    course = repo.course
    closed = submissions_closed_reason(course, repo.owner.login, utcnow())
    reasons = refusals(updates, course.graded_branch, closed)
    if reasons:
        out.refuse("push refused:\n" + "\n".join(f"  {r}" for r in reasons))
        return
    recorded = []
    for update in updates:
        if update.branch == course.graded_branch:
            submission = Submission(course_id=course.id, repo_id=repo.id,
                                    student_id=repo.owner_id, commit_sha=update.new,
                                    branch=update.branch, status=SubmissionStatus.queued)
            session.add(submission)
            recorded.append(submission)
        elif update.branch is not None and update.new != ZERO_SHA:
            out.say(f"branch {update.branch!r} is kept but not graded "
                    f"(the graded branch is {course.graded_branch!r})")
    session.commit()
    for submission in recorded:
        out.say(f"submission {submission.id} recorded for commit {submission.commit_sha[:12]} "
                f"({_waiting_before(session, submission)} waiting before it); "
                f"results: {public_url}/api/v1/submissions/{submission.id}")


def _waiting_before(session: Session, submission: Submission) -> int:
    """Submissions queued or running ahead of this one: a hint of the wait at deadlines."""
    return session.scalar(select(func.count()).where(
        Submission.id < submission.id,
        Submission.status.in_([SubmissionStatus.queued, SubmissionStatus.running])))


def post_receive(session: Session, repo: Repo, updates: list[RefUpdate], broker_url: str,
                 out: HookOutput) -> None:
    """Enqueue the submissions pre-receive recorded for this push's graded head."""
    heads = [u.new for u in updates if u.branch == repo.course.graded_branch]
    queued = session.scalars(select(func.max(Submission.id)).where(
        Submission.repo_id == repo.id, Submission.status == SubmissionStatus.queued,
        Submission.commit_sha.in_(heads)).group_by(Submission.commit_sha)).all()
    if not queued:
        return
    try:
        sent = enqueue(queued, broker_url)
    except Exception as error:  # the row is saved; the workers' reconciler picks it up
        log.warning("could not enqueue submissions %s: %r", queued, error)
        out.say(f"grading queue unreachable ({type(error).__name__}); your submission is "
                f"saved and will be graded when it is back")
        return
    out.say("queued for grading" if sent else "saved; grading starts when a grader is connected")


@dataclass(frozen=True)
class PushContext:
    """The authorised push the hooks act for, fixed by the API before git starts."""
    sessions: sessionmaker
    repo_id: int
    public_url: str
    broker_url: str


def answer(context: PushContext, request: dict) -> HookOutput:
    """Run the hook named in ``request`` (``{"hook": ..., "updates": [...]}``)."""
    out = HookOutput()
    hook = request.get("hook")
    if hook not in ("pre-receive", "post-receive"):
        out.refuse(f"unknown hook {hook!r}")
        return out
    updates = [RefUpdate(str(u["old"]), str(u["new"]), str(u["ref"]),
                         u.get("fast_forward") is True) for u in request.get("updates", [])]
    try:
        with context.sessions() as session:
            repo = session.get(Repo, context.repo_id)
            if hook == "pre-receive":
                pre_receive(session, repo, updates, context.public_url, out)
            else:
                post_receive(session, repo, updates, context.broker_url, out)
    except SQLAlchemyError as error:
        # Refusing in pre-receive is safe: nothing was recorded, the student pushes again.
        outcome = ("push refused, nothing recorded: try again shortly" if hook == "pre-receive"
                   else "your submission is saved; grading starts later")
        out.refuse(f"the grader's database failed ({type(error).__name__}); {outcome}")
        out.code = 1 if hook == "pre-receive" else 0
    return out
