"""The Celery tasks: ``grade_submission`` (sent by the service by name) and ``reconcile``
(periodic).  Thin: the work is in :mod:`workers.grading` and :mod:`workers.reconciler`."""

import functools
import logging

from celery.signals import worker_process_shutdown
from autograder.models import SubmissionStatus
from workers import grading, reconciler
from autograder.queue import submissions_in_broker
from workers.celery_app import app, settings

log = logging.getLogger(__name__)


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
        from harness.backends.local import LocalBackend
        return LocalBackend()   # UNSAFE for untrusted code: development machines only
    from workers.docker_backend import DockerBackend
    return DockerBackend(settings.sandbox_image, warm=settings.sandbox_warm,
                         deployment=settings.sandbox_deployment)


@worker_process_shutdown.connect
def _remove_warm_spares(**_):
    """A pool process that ends normally takes its spare containers with it (one that is
    killed leaves them to the orphan sweep)."""
    if settings.sandbox == "docker" and _backend.cache_info().currsize:
        _backend().drain()


@app.task(name="workers.tasks.grade_submission")
def grade_submission(submission_id):
    """Grade one submission.  An infrastructure fault is retried with exponential back-off,
    planned in the database (``retry_at``) and sent by the reconciler when due: no message
    waits out the back-off in the broker, so a broker restart cannot lose the retry."""
    try:
        if settings.repos_dir is None:
            raise grading.InfrastructureFault("AUTOGRADER_REPOS_DIR is not set on this worker")
        status = grading.grade_submission(submission_id, _sessions(), settings, _backend())
    except grading.InfrastructureFault as exc:
        delay = reconciler.plan_retry(_sessions(), submission_id, settings)
        log.warning("submission %s: %s; %s", submission_id, exc,
                    f"retry in {delay:g} s" if delay is not None else "out of retries")
        return SubmissionStatus.infra_error.value
    return status.value if status else None


@app.task(name="workers.tasks.reconcile")
def reconcile():
    in_broker = submissions_in_broker(app, app.conf.task_default_queue)
    return reconciler.reconcile(_sessions(), settings, send=grade_submission.delay,
                                in_broker=in_broker)
