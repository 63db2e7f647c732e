"""Worker settings, from ``AUTOGRADER_*`` environment variables (the names the service and the
git hooks already use), so a worker host needs no config file."""

import os
from dataclasses import dataclass
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent


def _number(env, name, default, kind=float):
    raw = env.get(f"AUTOGRADER_{name}")
    if raw in (None, ""):
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(f"AUTOGRADER_{name}={raw!r} is not a valid {kind.__name__}") from None


@dataclass(frozen=True)
class WorkerSettings:
    broker_url: str
    database_url: str | None
    repos_dir: Path | None
    rubrics_dir: Path                # where the course file's rubric paths are resolved
    sandbox: str                     # "docker", or "local" (UNSAFE, development only)
    sandbox_warm: int                # started spare containers kept per pool process
    soft_limit_s: float              # a whole grading job: above the longest it can take
                                     # (workers.grading.check_time_budget)
    hard_limit_s: float
    max_retries: int                 # for infrastructure faults, with exponential back-off
    max_lost_attempts: int           # a job whose worker died this often is given up
    retry_backoff_s: float
    reconcile_every_s: float
    queued_stale_s: float            # queued this long with no message in the broker: lost
    concurrency: int

    @property
    def running_stale_s(self):
        """A job running longer than its hard limit (plus a margin) is dead for sure."""
        return self.hard_limit_s + 60.0

    @classmethod
    def from_env(cls, env=None):
        env = os.environ if env is None else env
        soft = _number(env, "TASK_SOFT_LIMIT_S", 4 * 3600.0)   # 18 modules of 300 s, run twice, fit
        repos = env.get("AUTOGRADER_REPOS_DIR")
        sandbox = env.get("AUTOGRADER_SANDBOX", "docker")
        if sandbox not in ("docker", "local"):
            raise ValueError(f"AUTOGRADER_SANDBOX={sandbox!r}: use 'docker' or 'local'")
        return cls(
            broker_url=env.get("AUTOGRADER_BROKER_URL") or "redis://127.0.0.1:6379/0",
            database_url=env.get("AUTOGRADER_DATABASE_URL"),
            repos_dir=Path(repos) if repos else None,
            rubrics_dir=Path(env.get("AUTOGRADER_RUBRICS_DIR") or CHECKOUT / "rubrics"),
            sandbox=sandbox,
            sandbox_warm=_number(env, "SANDBOX_WARM", 2, int),   # a job = student + reference
            soft_limit_s=soft,
            hard_limit_s=_number(env, "TASK_HARD_LIMIT_S", soft + 300.0),
            max_retries=_number(env, "MAX_RETRIES", 5, int),
            max_lost_attempts=_number(env, "MAX_LOST_ATTEMPTS", 3, int),
            retry_backoff_s=_number(env, "RETRY_BACKOFF_S", 30.0),
            reconcile_every_s=_number(env, "RECONCILE_EVERY_S", 10.0),
            queued_stale_s=_number(env, "QUEUED_STALE_S", 10.0),
            concurrency=_number(env, "WORKER_CONCURRENCY", os.cpu_count() or 1, int),
        )
