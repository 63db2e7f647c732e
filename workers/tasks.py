"""The Celery tasks: ``grade_submission`` (sent by the service by name) and ``reconcile``
(periodic).  Thin: the work is in :mod:`workers.grading` and :mod:`workers.reconciler`."""

import functools
from datetime import timedelta

from celery.signals import worker_process_shutdown
from autograder.models import utcnow
from workers import grading, reconciler
from workers.broker_queue import submissions_in_broker
from workers.celery_app import app, settings


@functools.cache
def _sessions():
    """One engine per worker process, made after the fork (engines must not cross it)."""
    from autograder.db import session_factory_for
    if not settings.database_url:
        raise grading.InfrastructureFault("AUTOGRADER_DATABASE_URL is not set on this worker")
    return session_factory_for(settings.database_url)


@functools.cache
def _backend():
    if settings.sandbox == "local":
        from workers.backends.local import LocalBackend
        return LocalBackend()   # UNSAFE for untrusted code: development machines only
    from workers.backends.docker import DockerBackend
    return DockerBackend(warm=settings.sandbox_warm)


@worker_process_shutdown.connect
def _remove_warm_spares(**_):
    """A pool process that ends normally takes its spare containers with it (one that is
    killed leaves them to the orphan sweep)."""
    if settings.sandbox == "docker" and _backend.cache_info().currsize:
        _backend().drain()


@app.task(bind=True, name="workers.tasks.grade_submission", max_retries=settings.max_retries)
def grade_submission(self, submission_id):
    """Grade one submission; infrastructure faults retry with exponential back-off."""
    try:
        if settings.repos_dir is None:
            raise grading.InfrastructureFault("AUTOGRADER_REPOS_DIR is not set on this worker")
        status = grading.grade_submission(submission_id, _sessions(), settings, _backend())
    except grading.InfrastructureFault as exc:
        countdown = settings.retry_backoff_s * 2 ** self.request.retries
        retried = self.request.retries < self.max_retries
        reconciler.plan_retry(_sessions(), submission_id,
                              utcnow() + timedelta(seconds=countdown) if retried else None)
        raise self.retry(exc=exc, countdown=countdown)
    return status.value if status else None


@app.task(name="workers.tasks.reconcile")
def reconcile():
    in_broker = submissions_in_broker(app, app.conf.task_default_queue)
    return reconciler.reconcile(_sessions(), settings, send=grade_submission.delay,
                                in_broker=in_broker)
