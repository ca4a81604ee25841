"""Task registry: importing this module registers every task with the Celery app."""

from __future__ import annotations

import logging
from datetime import timedelta

from docsvc.tasks.app import PERIODIC, celery_app, task_container

log = logging.getLogger("docsvc.tasks")


@celery_app.task(name="docsvc.ping")
def ping() -> str:
    """Round trip through the broker and a worker (used by health checks and tests)."""
    return "pong"


@celery_app.task(name="docsvc.drain_outbox", bind=True, max_retries=None)
def drain_outbox(self) -> dict:  # type: ignore[no-untyped-def]
    """Index what the outbox holds. Failed items back off inside the outbox itself; the periodic
    run below picks them up again, so an index outage delays search but loses nothing."""
    report = task_container().indexing.drain()
    return {"done": report.done, "failed": report.failed, "quarantined": report.quarantined}


PERIODIC["drain-outbox"] = ("docsvc.drain_outbox", timedelta(seconds=30))


@celery_app.task(name="docsvc.run_batches")
def run_batches() -> int:
    """Run the pending batch actions (receive, register, assign, issue; a batch signature runs in
    the process that holds its PIN)."""
    return task_container().run_batches()


PERIODIC["run-batches"] = ("docsvc.run_batches", timedelta(seconds=30))


@celery_app.task(name="docsvc.idempotency_sweep")
def idempotency_sweep() -> int:
    """Forget Idempotency-Keys older than DOCSVC_IDEMPOTENCY_HOURS."""
    return task_container().idempotency.sweep()


PERIODIC["idempotency-sweep"] = ("docsvc.idempotency_sweep", timedelta(hours=1))


@celery_app.task(name="docsvc.deliver_document", bind=True, max_retries=10, default_retry_delay=30)
def deliver_document(self, doc_id: int) -> int:  # type: ignore[no-untyped-def]
    """Deliver an issued document to its internal recipient agencies (idempotent; retried while a
    backend is down, so an outage delays delivery but loses nothing)."""
    try:
        return task_container().outgoing.deliver(doc_id)
    except Exception as exc:
        if self.request.is_eager:
            raise
        raise self.retry(exc=exc) from exc


@celery_app.task(name="docsvc.reorganisation_run")
def reorganisation_run(plan_id: int) -> dict:
    """Run or resume a reorganisation (idempotent: done items are skipped; a failure leaves the plan
    'failed' with the reason, and running it again resumes)."""
    return task_container().reorganisations.run(plan_id)


@celery_app.task(name="docsvc.cert_batch_run")
def cert_batch_run(batch_id: int) -> dict:
    """Issue a bulk certificate batch (resumable: done lines are skipped)."""
    return task_container().bulk_certificates.run(batch_id)


@celery_app.task(name="docsvc.deliver_pending")
def deliver_pending() -> int:
    """Catch up deliveries that failed or were never sent (worker down at issue time)."""
    return task_container().outgoing.deliver_pending()


PERIODIC["deliver-pending"] = ("docsvc.deliver_pending", timedelta(minutes=2))


@celery_app.task(name="docsvc.deadline_sweep")
def deadline_sweep() -> dict:
    """Reminders before deadlines, overdue notices and escalation to unit heads."""
    r = task_container().deadlines.sweep()
    return {"reminders": r.reminders, "overdue": r.overdue, "escalations": r.escalations}


@celery_app.task(name="docsvc.orphan_sweep")
def orphan_sweep() -> int:
    """Remove stored objects no row references, older than a day (never retained or held ones)."""
    return task_container().sweep_orphans()


@celery_app.task(name="docsvc.ltv_refresh")
def ltv_refresh() -> int:
    """Add validation data and a document time-stamp to issued documents whose certificates or
    last time-stamp near expiry, so their signatures stay verifiable for the archive."""
    return task_container().outgoing.refresh_ltv()


@celery_app.task(name="docsvc.delegation_readers")
def delegation_readers() -> int:
    """Delegations that started or expired since the last run: their delegates start or stop
    reading the drafts waiting for the delegator (creation and revocation apply at once)."""
    return task_container().approval.sync_delegation_readers()


PERIODIC["delegation-readers"] = ("docsvc.delegation_readers", timedelta(minutes=5))
PERIODIC["deadline-sweep"] = ("docsvc.deadline_sweep", timedelta(hours=1))
PERIODIC["orphan-sweep"] = ("docsvc.orphan_sweep", timedelta(hours=6))
PERIODIC["ltv-refresh"] = ("docsvc.ltv_refresh", timedelta(days=1))


@celery_app.task(name="docsvc.audit_checkpoint")
def audit_checkpoint() -> dict:
    """Sign and time-stamp the audit chain's head into the object store (under compliance
    retention), if it moved. A chain that does not verify is logged as an error, not anchored."""
    from docsvc.errors import DomainError
    from docsvc.services.audit_checkpoints import ChainBroken
    try:
        checkpoint = task_container().audit_checkpoints.create()
    except ChainBroken as exc:
        log.error("audit checkpoint refused: %s", exc.message)
        return {"written": False, "problems": [p.to_dict() for p in exc.problems]}
    except (DomainError, ConnectionError) as exc:  # no internal CA yet, TSA or store down: the next run retries
        message = exc.message if isinstance(exc, DomainError) else str(exc)
        log.warning("audit checkpoint not written: %s", message)
        return {"written": False, "error": message}
    return {"written": checkpoint is not None, "seq": checkpoint.seq if checkpoint else None}


PERIODIC["audit-checkpoint"] = ("docsvc.audit_checkpoint", timedelta(minutes=10))


# ---------------------------------------------------------------- exchange with other systems (edXML)
@celery_app.task(name="docsvc.exchange_send")
def exchange_send() -> dict:
    """Send queued edXML packages and status messages (failures back off inside the queue)."""
    r = task_container().exchange.send_pending()
    return {"sent": r.sent, "retrying": r.retrying, "failed": r.failed}


@celery_app.task(name="docsvc.exchange_receive")
def exchange_receive() -> int:
    """Take the packages and status messages waiting on every configured transport."""
    return task_container().exchange.receive()


@celery_app.task(name="docsvc.notification_mail")
def notification_mail() -> dict:
    """Users' notification e-mails: what is new (immediate), or the daily digest."""
    r = task_container().mail_notifications.send_due()
    return {"mails": r.mails, "notifications": r.notifications, "failed": r.failed}


PERIODIC["notification-mail"] = ("docsvc.notification_mail", timedelta(minutes=5))
PERIODIC["exchange-send"] = ("docsvc.exchange_send", timedelta(seconds=30))
PERIODIC["exchange-receive"] = ("docsvc.exchange_receive", timedelta(seconds=30))


# ---------------------------------------------------------------- dossiers and archives
@celery_app.task(name="docsvc.archive_locks")
def archive_locks() -> dict:
    """Apply pending storage locks (retention, legal hold) of archived and held records; a storage
    outage leaves them pending, so this retries until they are applied."""
    c = task_container()
    marked = c.object_locks.reconcile()
    report = c.object_locks.sync()
    return {"marked": marked, **report.to_dict()}


@celery_app.task(name="docsvc.archive_daily")
def archive_daily() -> dict:
    """The archive's daily round: transfer alerts (30 days ahead and overdue), the listing of
    records past their retention for disposal, and the protection periods of secret documents
    (review notices 60 days ahead, declassification at the end)."""
    c = task_container()
    return {"transfer_notices": c.transfers.alert(), "disposal": c.disposal.propose(),
            "secrecy": c.secrecy.sweep()}


PERIODIC["archive-locks"] = ("docsvc.archive_locks", timedelta(minutes=10))
PERIODIC["archive-daily"] = ("docsvc.archive_daily", timedelta(days=1))
