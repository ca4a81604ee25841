"""The generic batch job: a list of items, each run by a per-item callable, off the request thread.

A batch (``batches`` row) holds what its items share; each item (``batch_items`` row) its own
input and, once run, a state (``done``/``failed``/``skipped``), a result or an error. Items run one
after the other, each through the same service method a single action uses (its own transaction
and audit event), so a failure of one item leaves the others done and says why.

Batches run in the background worker (:func:`docsvc.tasks.app.kick` of ``docsvc.run_batches``:
Celery when a broker is set, the embedded worker otherwise). A batch that carries a secret (the PIN
of a batch signature) never writes it anywhere: the secret stays in the memory of the process that
received it, and that process runs the batch in a background thread of its own.
A runner claims a batch (``pending`` → ``running``) with a conditional update, so two workers
never run the same batch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import Batch, BatchItem, Document
from docsvc.db.rows import must_get, rows_affected
from docsvc.db.uow import Database
from docsvc.domain.identity import Actor
from docsvc.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from docsvc.timeutil import to_vn_iso

log = logging.getLogger("docsvc.batches")

MAX_ITEMS = 1000  # items of one batch
STALE = timedelta(minutes=30)  # a batch running (or waiting for its secret) this long was interrupted


@dataclass(frozen=True)
class ItemContext:
    """What a per-item callable gets: who runs the batch, the shared parameters, the item's input,
    and the batch's in-memory secret (None when it has none)."""

    actor: Actor
    batch_id: int
    item_id: int
    params: dict[str, Any]
    input: dict[str, Any]
    secret: str | None = None


#: (context) -> result dict; ``result["document_id"]`` (if any) is kept on the item. Raise a
#: DomainError for a failure the user can understand.
ItemRunner = Callable[[ItemContext], dict[str, Any]]


class BatchService:
    def __init__(self, db: Database, actor_for: Callable[[int], Actor], *,
                 kick: Callable[[], None] | None = None) -> None:
        self.db = db
        self.actor_for = actor_for
        self.kick = kick or (lambda: None)
        self.runners: dict[str, ItemRunner] = {}
        self.workers: dict[str, int] = {}
        self.views: dict[str, Callable[[Any, dict[str, Any]], dict[str, Any]]] = {}
        self._secrets: dict[int, str] = {}
        self._threads: dict[int, threading.Thread] = {}

    def register_kind(self, kind: str, runner: ItemRunner, *, workers: int = 1) -> None:
        """Wiring (bootstrap): the per-item callable of batches of ``kind``. ``workers`` > 1 runs
        items of independent work (reading files) that many at a time; kinds whose order matters
        (numbers given in the order shown) keep 1."""
        self.runners[kind] = runner
        self.workers[kind] = max(1, workers)

    # ------------------------------------------------------------ create
    def start(self, actor: Actor, kind: str, inputs: list[dict[str, Any]], *, params: dict[str, Any] | None = None,
              secret: str | None = None, parent_id: int | None = None,
              sha256s: list[str | None] | None = None, failed: dict[int, dict[str, Any]] | None = None
              ) -> dict[str, Any]:
        """Create the batch and hand it to the background. ``failed``: items (by position) already
        known to fail (e.g. a file that is not a PDF), kept as failed rows with their reason."""
        if kind not in self.runners:
            raise InvalidInput(f"unknown batch kind {kind!r}")
        if not inputs:
            raise InvalidInput("select at least one document", {"field": "items"})
        if len(inputs) > MAX_ITEMS:
            raise InvalidInput(f"a batch has at most {MAX_ITEMS} items", {"field": "items"})
        failed = failed or {}
        with self.db.write() as s:
            batch = Batch(kind=kind, agency_id=actor.agency_id, created_by=actor.user_id, params=params or {},
                          total=len(inputs), failed=len(failed), parent_id=parent_id)
            s.add(batch)
            s.flush()
            # An item links to its document only when one exists: an unknown id fails when the item runs,
            # with the same "not found" as a document the actor may not read (existence is not revealed).
            asked = sorted({d["document_id"] for d in inputs if isinstance(d.get("document_id"), int)})
            existing = set(s.execute(select(Document.id).where(Document.id.in_(asked))).scalars()) if asked else set()
            for i, data in enumerate(inputs):
                error = failed.get(i)
                s.add(BatchItem(batch_id=batch.id, seq=i + 1, input=data, state="failed" if error else "pending",
                                error=error, sha256=(sha256s[i] if sha256s else None),
                                finished_at=utcnow() if error else None,
                                document_id=data.get("document_id") if data.get("document_id") in existing
                                else None))
            if len(failed) == len(inputs):
                batch.state, batch.finished_at = "done", utcnow()
            batch_id = batch.id
        if secret is not None:
            self._secrets[batch_id] = secret
            thread = threading.Thread(target=self._run_and_forget, args=(batch_id,), daemon=True,
                                      name=f"docsvc-batch-{batch_id}")
            self._threads[batch_id] = thread
            thread.start()
        else:
            self.kick()
        return self.get(actor, batch_id)

    # ------------------------------------------------------------ run
    def run_pending(self) -> int:
        """Run every pending batch this process can run (the background task; tests call it), after
        closing the batches a stopped process left behind."""
        self.close_interrupted()
        ran = 0
        with self.db.read() as s:
            ids = list(s.execute(select(Batch.id).where(Batch.state == "pending").order_by(Batch.id)).scalars())
        for batch_id in ids:
            if self.run(batch_id):
                ran += 1
        return ran

    def run(self, batch_id: int, *, holder: bool = False) -> bool:
        """Claim and run one batch; False when another runner has it. A batch that needs a secret
        is run only by the thread of the process holding it (``holder``)."""
        with self.db.read() as s:
            batch = s.get(Batch, batch_id)
            if batch is None or batch.state != "pending":
                return False
            kind, user_id, params = batch.kind, batch.created_by, dict(batch.params or {})
            needs_secret = bool(params.get("needs_secret"))
        secret = self._secrets.get(batch_id) if holder else None
        if (needs_secret and secret is None) or kind not in self.runners:
            return False  # its secret lives in another process, which runs it
        with self.db.write() as s:
            claimed = rows_affected(s, update(Batch).where(Batch.id == batch_id, Batch.state == "pending")
                                    .values(state="running", started_at=utcnow()))
        if not claimed:
            return False
        runner = self.runners[kind]
        actor = self.actor_for(user_id)
        with self.db.read() as s:
            items = [(i.id, dict(i.input or {})) for i in s.execute(
                select(BatchItem).where(BatchItem.batch_id == batch_id, BatchItem.state == "pending")
                .order_by(BatchItem.seq)).scalars()]
        contexts = [ItemContext(actor, batch_id, item_id, params, data, secret) for item_id, data in items]
        try:
            if self.workers.get(kind, 1) > 1 and len(contexts) > 1:
                from concurrent.futures import ThreadPoolExecutor
                with ThreadPoolExecutor(self.workers[kind], thread_name_prefix=f"docsvc-batch-{batch_id}") as pool:
                    list(pool.map(lambda ctx: self._run_item(runner, ctx), contexts))
            else:
                for ctx in contexts:
                    self._run_item(runner, ctx)
        finally:
            self._secrets.pop(batch_id, None)
            with self.db.write() as s:
                s.execute(update(Batch).where(Batch.id == batch_id).values(state="done", finished_at=utcnow()))
        return True

    def close_interrupted(self, older_than: timedelta = STALE) -> int:
        """Batches whose runner stopped (the process died while running them, or the process that
        held a batch signature's PIN is gone): their unfinished items fail with the reason, so the
        progress ends and says what to do, instead of waiting for ever."""
        cutoff = utcnow() - older_than
        closed = 0
        with self.db.write() as s:
            stale = s.execute(select(Batch).where(or_(
                and_(Batch.state == "running", Batch.started_at < cutoff),
                and_(Batch.state == "pending", Batch.created_at < cutoff)))).scalars().all()
            for batch in stale:
                if batch.id in self._secrets or batch.id in self._threads:
                    continue  # this process still runs it
                if batch.state == "pending" and not (batch.params or {}).get("needs_secret"):
                    continue  # any worker can still run it (run_pending does, next)
                for item in batch.items:
                    if item.state in ("pending", "running"):
                        item.state, item.finished_at = "failed", utcnow()
                        item.error = {"code": "interrupted", "message": "the batch was interrupted before this "
                                      "document; start it again for the documents not done", "details": None}
                        batch.failed += 1
                batch.state, batch.finished_at = "done", utcnow()
                closed += 1
        return closed

    def _run_item(self, runner: ItemRunner, ctx: ItemContext) -> None:
        with self.db.write() as s:
            s.execute(update(BatchItem).where(BatchItem.id == ctx.item_id).values(state="running"))
        result: dict[str, Any] | None = None
        error: dict[str, Any] | None = None
        try:
            result = runner(ctx)
        except DomainError as exc:
            error = error_dict(exc)
        except Exception:  # one item's unexpected failure must not stop the others
            log.exception("batch %s item %s failed", ctx.batch_id, ctx.item_id)
            error = {"code": "internal_error", "message": "an unexpected error stopped this item; the others went on"}
        with self.db.write() as s:
            item = must_get(s, BatchItem, ctx.item_id)
            item.state = "failed" if error else "done"
            item.result, item.error, item.finished_at = result, error, utcnow()
            if result and isinstance(result.get("document_id"), int):
                item.document_id = result["document_id"]
            column = Batch.failed if error else Batch.done
            s.execute(update(Batch).where(Batch.id == ctx.batch_id).values({column: column + 1}))

    def _run_and_forget(self, batch_id: int) -> None:
        try:
            self.run(batch_id, holder=True)
        except Exception:
            log.exception("batch %s stopped", batch_id)
        finally:
            self._secrets.pop(batch_id, None)
            self._threads.pop(batch_id, None)

    def wait(self, batch_id: int, timeout: float = 60.0) -> None:
        """Wait until the batch has finished (tests; ``docsvc`` commands)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            thread = self._threads.get(batch_id)
            if thread is not None:
                thread.join(max(0.0, end - time.monotonic()))
            with self.db.read() as s:
                batch = s.get(Batch, batch_id)
                if batch is None or batch.state in ("done", "failed", "cancelled"):
                    return
            time.sleep(0.05)
        raise TimeoutError(f"batch {batch_id} did not finish in {timeout} s")

    # ------------------------------------------------------------ read
    def get(self, actor: Actor, batch_id: int) -> dict[str, Any]:
        """Progress and per-item results; only the person who started the batch sees it (its rows
        may carry subjects read from the documents)."""
        with self.db.read() as s:
            batch = self.load(s, actor, batch_id)
            out = batch_dict(batch)
            view = self.views.get(batch.kind)
            return view(s, out) if view else out

    def load(self, s: Session, actor: Actor, batch_id: int) -> Batch:
        batch = s.get(Batch, batch_id)
        if batch is None or batch.agency_id != actor.agency_id:
            raise NotFound(f"batch {batch_id} not found")
        if batch.created_by != actor.user_id:
            raise PermissionDenied("only the person who started a batch follows it")
        return batch


def error_dict(exc: DomainError) -> dict[str, Any]:
    """A per-item error as kept on the item: the code and English message API clients read, the
    details, and the message's stable key (``Msg``) by which the pages translate it."""
    return {"code": exc.code, "message": exc.message, "details": exc.details, "key": exc.key}


def batch_dict(batch: Batch) -> dict[str, Any]:
    finished = batch.done + batch.failed
    return {
        "id": batch.id, "kind": batch.kind, "state": batch.state, "parent_id": batch.parent_id,
        "total": batch.total, "done": batch.done, "failed": batch.failed,
        "progress": round(100 * finished / batch.total) if batch.total else 100,
        "created_at": to_vn_iso(batch.created_at), "started_at": to_vn_iso(batch.started_at),
        "finished_at": to_vn_iso(batch.finished_at),
        "params": {k: v for k, v in (batch.params or {}).items() if k != "needs_secret"},
        "items": [{"id": i.id, "seq": i.seq, "state": i.state, "document_id": i.document_id, "input": i.input,
                   "result": i.result, "error": i.error, "finished_at": to_vn_iso(i.finished_at)}
                  for i in batch.items],
    }
