"""Background work on Celery: task modules register on :data:`docsvc.tasks.app.celery_app`."""
