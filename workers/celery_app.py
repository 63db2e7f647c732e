"""The Celery application of the grading workers: Redis broker, the database holds the truth.

Run a worker (settings: :mod:`autograder.settings`, read once here; concurrency defaults to
the host's cores; ``--beat`` also runs the periodic reconciler, on exactly one worker of a
deployment)::

    AUTOGRADER_DATABASE_URL=... AUTOGRADER_REPOS_DIR=... AUTOGRADER_BROKER_URL=redis://... \\
        celery -A workers.celery_app worker --beat --loglevel=INFO

A worker needs ``AUTOGRADER_BROKER_URL``: unlike the API, which keeps pushes in the database
when no broker is set, a worker has nothing to do without one (Celery would silently try
``amqp://localhost``).

Delivery: a task is acknowledged only after it finished (``acks_late``) and is put back when
its pool process dies (``reject_on_worker_lost``); the visibility timeout outlasts the hard
time limit, so a job still running is never handed to a second worker.
"""

import logging
import sys

from celery import Celery
from celery.signals import worker_init, worker_process_init

from autograder.settings import Settings, SettingsInvalid

settings = Settings()
if not settings.broker_url:
    raise SettingsInvalid("AUTOGRADER_BROKER_URL is not set: a worker takes its jobs from "
                          "that broker (e.g. redis://127.0.0.1:6379/0)")
log = logging.getLogger(__name__)

app = Celery("workers", broker=settings.broker_url, include=["workers.tasks"])
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_soft_time_limit=settings.task_soft_limit_s,
    task_time_limit=settings.hard_limit_s,
    task_ignore_result=True,
    worker_concurrency=settings.worker_concurrency,    # None: Celery's default, the cores
    broker_connection_retry_on_startup=True,
    broker_transport_options={"visibility_timeout": settings.hard_limit_s + 600},
    beat_schedule={"reconcile-stuck-submissions": {
        "task": "workers.tasks.reconcile", "schedule": settings.reconcile_every_s}},
)


@worker_init.connect
def _refuse_to_start_without_datasets(**_):
    """A worker given a dataset directory (``AUTOGRADER_DATASET_DIR``) that lacks a
    milestone's data stops at once with what is missing, rather than fail jobs later."""
    from workers.milestones.data import DatasetMissing, check_datasets
    if settings.dataset_dir is None:
        log.warning("AUTOGRADER_DATASET_DIR is not set: milestone jobs will be infrastructure "
                    "errors")
        return
    try:
        check_datasets(settings.dataset_dir)
    except DatasetMissing as exc:
        print(f"worker not started: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from exc


@worker_init.connect
@worker_process_init.connect
def _sweep_sandbox_orphans(**_):
    """Containers of a worker or pool process killed before it could remove them go now,
    before new jobs: at worker start, and when a pool process replaces a dead one."""
    if settings.sandbox != "docker":
        return
    from workers import docker_backend as sandbox
    try:
        removed = sandbox.sweep_orphans()
    except Exception as exc:  # noqa: BLE001 - Docker down must not stop the worker starting
        log.warning("could not sweep orphaned sandbox containers: %s", exc)
        return
    if removed:
        log.warning("removed %d orphaned sandbox container(s)", removed)
