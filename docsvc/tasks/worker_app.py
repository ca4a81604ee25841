"""Entry module for ``celery -A docsvc.tasks.worker_app worker|beat``: a configured Celery app."""

from docsvc.tasks.app import celery_app, task_container

app = celery_app
task_container()  # reads DOCSVC_* settings and configures the broker
