"""The trusted client side of the runner, which also ships to students for their self-check:
the runner client, the backend contract and the local backend, the checkpoint machinery with
the public suites, and the suite runner. Nothing server-only (no Celery, no database)."""
