"""What the server-side git hooks decide, served inside the API process.

pre-receive decides the whole push (all refs or none) and commits one Submission per updated
graded-branch head *before* git updates any ref, so an acknowledged push is never lost.
post-receive runs once the objects are out of git's quarantine (a worker can read them) and
enqueues this repo's queued submissions. git relays what they print as ``remote:`` lines.
Once git has exited, ``reject_unlanded`` marks ``rejected`` each submission of the push whose
commit the branch did not move to (git refused the ref update, e.g. another push won a race):
such a commit is never graded or counted.

git runs ``autograder/pushes/hook_client.py`` as the hook; it reaches ``answer`` through
``autograder.pushes.bridge``, a socket pair the API process handed to ``git http-backend``
for this one push, so the repo and the configuration come from the authorised request, never
from the hook's environment.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from autograder.api.queries import waiting_before
from autograder.course.stored import late_notes, submissions_closed_reason
from autograder.git.repos import on_branch
from autograder.models import Repo, Submission, SubmissionStatus, utcnow
from autograder.queue import enqueue
from sandbox.wire import DEFAULT_MAX_FRAME as MAX_FRAME

ZERO_SHA = "0" * 40
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefUpdate:
    old: str
    new: str
    ref: str
    fast_forward: bool = True     # judged by the hook, which sees the quarantined objects
    package_files: tuple[tuple[str, int], ...] = ()   # (path, size) under tinytorch/ at new

    @property
    def branch(self) -> str | None:
        return self.ref.removeprefix("refs/heads/") if self.ref.startswith("refs/heads/") else None


@dataclass
class HookOutput:
    """What the hook prints: ``remote:`` lines for the student, and its exit code."""
    code: int = 0
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    recorded: list[int] = field(default_factory=list)   # submissions pre-receive committed

    def say(self, line: str) -> None:
        self.stdout.append(line)

    def refuse(self, line: str) -> None:
        self.stderr.append(line)
        self.code = 1

    def as_reply(self) -> dict:
        return {"code": self.code, "stdout": "".join(f"{line}\n" for line in self.stdout),
                "stderr": "".join(f"{line}\n" for line in self.stderr)}


def archive_bytes(files: tuple[tuple[str, int], ...]) -> int:
    """The size of the tar of these files a grading job sends to the sandbox in one frame:
    a 512-byte header per file, contents padded to 512, and room for directories and the
    archive's end."""
    return sum(512 + -(-size // 512) * 512 for _, size in files) + 64 * 1024


def _too_big(update: RefUpdate, branch: str) -> str | None:
    """Why the package at ``update.new`` cannot be graded, or None."""
    size = archive_bytes(update.package_files)
    if size <= MAX_FRAME:
        return None
    largest = sorted(update.package_files, key=lambda f: -f[1])[:3]
    return (f"{branch}: tinytorch/ would be {size / 2**20:.1f} MiB to grade, over the "
            f"grader's limit of {MAX_FRAME / 2**20:.0f} MiB; largest files: "
            + ", ".join(f"{path} ({size / 2**20:.1f} MiB)" for path, size in largest)
            + "; keep data and weights out of tinytorch/")


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
        elif too_big := _too_big(update, graded_branch):
            reasons.append(too_big)
    return reasons


def pre_receive(session: Session, repo: Repo, updates: list[RefUpdate], out: HookOutput) -> None:
    """Refuse the whole push, or commit a queued Submission per updated graded head before
    git moves any ref (so an acknowledged push is never lost)."""
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
    out.recorded.extend(submission.id for submission in recorded)


def post_receive(session: Session, repo: Repo, updates: list[RefUpdate],
                 context: PushContext, out: HookOutput) -> None:
    """Announce and enqueue the submissions pre-receive recorded for the graded head git
    really moved (git runs post-receive with the updated refs only, so a rejected push is
    never told "recorded")."""
    heads = [u.new for u in updates if u.branch == repo.course.graded_branch]
    newest = select(func.max(Submission.id)).where(
        Submission.repo_id == repo.id, Submission.commit_sha.in_(heads)
    ).group_by(Submission.commit_sha)
    landed = session.scalars(select(Submission).where(Submission.id.in_(newest))
                             .order_by(Submission.id)).all()
    for submission in landed:
        out.say(f"submission {submission.id} recorded for commit {submission.commit_sha[:12]} "
                f"({waiting_before(session, submission)} waiting before it); "
                f"results: {context.public_url}/submissions/{submission.id}")
    if landed:
        for note in late_notes(repo.course, repo.owner.login, utcnow()):
            out.say(note)
    queued = [s.id for s in landed if s.status == SubmissionStatus.queued]
    if not queued:
        return
    try:
        sent = enqueue(queued, context.broker_url)
    except Exception as error:  # the row is saved; the workers' reconciler picks it up
        log.warning("could not enqueue submissions %s: %r", queued, error)
        out.say(f"grading queue unreachable ({type(error).__name__}); your submission is "
                f"saved, and the graders send it for grading by themselves within a minute "
                f"of the queue coming back: nothing to do, no need to push again")
        return
    out.say("queued for grading" if sent else "saved; grading starts when a grader is connected")


@dataclass(frozen=True)
class PushContext:
    """The authorised push the hooks act for, fixed by the API before git starts."""
    sessions: sessionmaker
    repo_id: int
    public_url: str
    broker_url: str
    repos_dir: Path


def reject_unlanded(context: PushContext, submission_ids: list[int]) -> list[int]:
    """After git exited: mark ``rejected`` the push's queued submissions whose commit is not
    on the graded branch (git refused that ref update); returns their ids."""
    rejected = []
    with context.sessions() as session:
        for submission in session.scalars(select(Submission).where(
                Submission.id.in_(submission_ids),
                Submission.status == SubmissionStatus.queued)):
            if not on_branch(context.repos_dir / submission.repo.path, submission.commit_sha,
                             submission.branch):
                rejected.append(submission.id)
        if rejected:
            reject(session, rejected, "git did not move the branch to this commit (another "
                   "push updated it first): never graded; pull, merge and push again")
    return rejected


def reject(session: Session, submission_ids: list[int], detail: str) -> None:
    """Mark still-queued submissions ``rejected`` (a worker may have taken one meanwhile)."""
    session.execute(update(Submission).where(
        Submission.id.in_(submission_ids), Submission.status == SubmissionStatus.queued)
        .values(status=SubmissionStatus.rejected, status_detail=detail, finished_at=utcnow())
        .execution_options(synchronize_session=False))
    session.commit()


def answer(context: PushContext, request: dict) -> HookOutput:
    """Run the hook named in ``request`` (``{"hook": ..., "updates": [...]}``)."""
    out = HookOutput()
    hook = request.get("hook")
    if hook not in ("pre-receive", "post-receive"):
        out.refuse(f"unknown hook {hook!r}")
        return out
    updates = [RefUpdate(str(u["old"]), str(u["new"]), str(u["ref"]),
                         u.get("fast_forward") is True,
                         tuple((str(path), int(size)) for path, size in u.get("package_files", [])))
               for u in request.get("updates", [])]
    try:
        with context.sessions() as session:
            repo = session.get(Repo, context.repo_id)
            if hook == "pre-receive":
                pre_receive(session, repo, updates, out)
            else:
                post_receive(session, repo, updates, context, out)
    except SQLAlchemyError as error:
        # Refusing in pre-receive is safe: nothing was recorded, the student pushes again.
        outcome = ("push refused, nothing recorded: try again shortly" if hook == "pre-receive"
                   else "your submission is saved; grading starts later")
        out.refuse(f"the grader's database failed ({type(error).__name__}); {outcome}")
        out.code = 1 if hook == "pre-receive" else 0
    return out
