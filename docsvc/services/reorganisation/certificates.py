"""Certificates issued in bulk for the people of an agency (after a merge: its leaders and officers under
their new titles) from a CSV, as a background job with progress.

Each key is generated and certified here and kept under a PIN only the service holds, until its owner
enrols (``POST /me/signing-key`` with a PIN of his own), which re-protects the same key: the expensive part
(key generation, certification) is done in bulk, nobody but the owner ever knows his PIN, and the
administrator never sees a key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

from docsvc.db.base import utcnow
from docsvc.db.models import CertBatch, CertBatchItem, Organisation, User
from docsvc.db.rows import must_get
from docsvc.db.uow import Database
from docsvc.domain.identity import Actor, RequestOrigin, Role
from docsvc.domain.policies import is_system
from docsvc.domain.reorganisation import parse_people_csv
from docsvc.errors import InvalidInput, NotFound, PermissionDenied
from docsvc.services import audit
from docsvc.timeutil import to_vn_iso
from signing.ca import CertificateRequest

#: People issued per round: their CA records, their rows and audit events are each written in one transaction.
CHUNK = 50


class BulkCertificates:
    def __init__(self, db: Database, signatures: Any, enqueue: Callable[..., None] | None = None) -> None:
        self.db = db
        self.signatures = signatures
        self.enqueue = enqueue

    def submit(self, actor: Actor, agency_ref: str, csv_text: str, origin: RequestOrigin | None = None,
               *, background: bool = True) -> dict[str, Any]:
        rows = parse_people_csv(csv_text)
        with self.db.write() as s:
            agency = s.execute(select(Organisation).where(Organisation.organ_id == agency_ref)).scalar_one_or_none()
            if agency is None or agency.kind == "unit":
                raise InvalidInput(f"no agency {agency_ref}", {"field": "agency"})
            _authorise(actor, agency)
            units = {u.name.lower(): u for u in s.execute(select(Organisation).where(
                Organisation.parent_id == agency.id, Organisation.kind == "unit")).scalars()}
            units.update({u.abbreviation.lower(): u for u in list(units.values()) if u.abbreviation})
            users = {u.email.lower(): u for u in s.execute(select(User).where(
                User.agency_id == agency.id, User.is_active.is_(True), User.email.is_not(None))).scalars()
                if u.email is not None}
            problems = []
            for row in rows:
                user = users.get(row["email"])
                if user is None:
                    problems.append({"line": row["line"], "message": f"{row['email']}: no active user of the agency"})
                    continue
                if row["unit"] and row["unit"].lower() not in units:
                    problems.append({"line": row["line"], "message": f"{row['unit']}: no such unit"})
                    continue
                row["user_id"] = user.id
                row["unit"] = units[row["unit"].lower()].name if row["unit"] else ""
            if problems:
                raise InvalidInput(f"{len(problems)} line(s) of the CSV are wrong", {"field": "csv", "lines": problems})
            batch = CertBatch(agency_id=agency.id, rows=rows, created_by=None if is_system(actor) else actor.user_id)
            s.add(batch)
            s.flush()
            audit.record(s, actor=actor, action="certificates.bulk", object_type="cert_batch", object_id=batch.id,
                         origin=origin, agency_id=agency.id, details={"people": len(rows)})
            batch_id = batch.id
        if background and self.enqueue is not None:
            self.enqueue("docsvc.cert_batch_run", batch_id)
        else:
            self.run(batch_id)
        return self.status(actor, batch_id)

    def run(self, batch_id: int) -> dict[str, Any]:
        """Issue every line not done yet (resumable: done lines are skipped), ``CHUNK`` people at a time:
        their keys, their certificates recorded by the CA in one transaction, their key files, then one
        transaction with their rows and one audit event per certificate. (One CA commit, one database
        commit and one audit append per person made the job run at a tenth of bare ``cryptography``.)"""
        with self.db.write() as s:
            batch = must_get(s, CertBatch, batch_id)
            batch.status = "running"
            agency_id = batch.agency_id
            agency_name = must_get(s, Organisation, agency_id).name
            rows = list(batch.rows)
            done = set(s.execute(select(CertBatchItem.line).where(CertBatchItem.batch_id == batch_id)).scalars())
        ca = self.signatures.ca
        todo = [row for row in rows if row["line"] not in done]
        actor_name = f"certificate batch #{batch_id}"
        try:
            for start in range(0, len(todo), CHUNK):
                chunk = todo[start:start + CHUNK]
                keys = [rsa.generate_private_key(65537, 2048) for _ in chunk]
                issued = ca.issue_many([CertificateRequest("user", row["name"], key.public_key(),
                                                           organisation=agency_name, unit=row["unit"] or None,
                                                           title=row["title"] or None, email=row["email"])
                                        for row, key in zip(chunk, keys, strict=True)])
                # the key files first, then the rows that say they exist (a crash between re-issues those lines)
                for row, key, cert in zip(chunk, keys, issued, strict=True):
                    self.signatures.put_pending_key(row["user_id"], lambda pin, k=key, c=cert.certificate:
                                                    ca.pack_pkcs12(k, c, pin))
                with self.db.write() as s:
                    s.add_all(CertBatchItem(batch_id=batch_id, line=row["line"], user_id=row["user_id"],
                                            cert_serial=cert.serial_hex)
                              for row, cert in zip(chunk, issued, strict=True))
                    audit.record_many(s, [{"actor": None, "actor_name": actor_name, "action": "certificate.issued",
                                           "object_type": "user", "object_id": row["user_id"], "agency_id": agency_id,
                                           "details": {"batch": batch_id, "line": row["line"],
                                                       "serial": cert.serial_hex, "subject": cert.subject}}
                                          for row, cert in zip(chunk, issued, strict=True)])
        except Exception as exc:
            with self.db.write() as s:
                failed = must_get(s, CertBatch, batch_id)
                failed.status, failed.last_error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
            raise
        with self.db.write() as s:
            finished = must_get(s, CertBatch, batch_id)
            finished.status, finished.finished_at = "done", utcnow()
            audit.record(s, actor=None, actor_name=actor_name, action="certificates.issued",
                         object_type="cert_batch", object_id=batch_id, agency_id=agency_id,
                         details={"people": len(rows)})
        return {"id": batch_id, "status": "done"}

    def status(self, actor: Actor, batch_id: int) -> dict[str, Any]:
        with self.db.read() as s:
            batch = s.get(CertBatch, batch_id)
            agency = s.get(Organisation, batch.agency_id) if batch else None
            if batch is None or agency is None:
                raise NotFound(f"certificate batch {batch_id} not found")
            try:
                _authorise(actor, agency)
            except PermissionDenied:
                raise NotFound(f"certificate batch {batch_id} not found") from None
            done = s.execute(select(func.count()).select_from(CertBatchItem)
                             .where(CertBatchItem.batch_id == batch_id)).scalar_one()
            return {"id": batch.id, "agency_id": batch.agency_id, "status": batch.status, "total": len(batch.rows),
                    "done": int(done), "last_error": batch.last_error, "created_at": to_vn_iso(batch.created_at),
                    "finished_at": to_vn_iso(batch.finished_at)}


def _authorise(actor: Actor, agency: Organisation) -> None:
    """The administrator of the agency or of the province above it (the CLI acts as ``SYSTEM``: the operator)."""
    if is_system(actor):
        return
    if not actor.has(Role.ADMIN) or actor.agency_id not in (agency.id, agency.parent_id):
        raise PermissionDenied("certificates are issued in bulk by the agency's or the province's administrator")


