"""Exchange with other systems: outbound queue, inbound import, status answers, recall answers.

Outbound: the use cases that issue or recall a document, or that act on a received one, call
``queue_*`` inside their own transaction; each message is an ``exchange_messages`` row (queued).
``send_pending`` (after the commit, and periodically) builds the edXML, signs it with the
organisation's key (detached CMS), and hands it to the recipient's transport. A recipient is
shown as sent only once a transport accepted its package; failures are retried with back-off
(30 s doubling, at most an hour) and marked failed, with the reason, after
``DOCSVC_EXCHANGE_MAX_ATTEMPTS`` or at once when no retry can help.

Inbound: ``receive`` asks every transport for what waits for this deployment's agencies; each
envelope is verified (signature against the trust roots, then the edXML parsed safely), applied
in one transaction (a package becomes an incoming document with its PDF signatures validated as
for internal delivery; a status updates the recipient) and acknowledged only after the commit.
The message id is unique in ``exchange_inbound``: a redelivered message is acknowledged and not
applied twice. Anything rejected is recorded with its reason and kept in the quarantine folder.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import (
    Document,
    DocumentFile,
    DocumentType,
    ExchangeAgency,
    ExchangeInbound,
    ExchangeMessage,
    Organisation,
    Recipient,
)
from docsvc.db.rows import must_get
from docsvc.db.uow import Database, after_commit
from docsvc.domain import policies
from docsvc.domain.documents import Direction, Status, check_transition, duplicate_key, number_notation
from docsvc.domain.identity import Actor, RequestOrigin, Role
from docsvc.domain.policies import is_system
from docsvc.errors import DomainError, InvalidInput, InvalidState, NotFound, PermissionDenied
from docsvc.services import audit, outbox
from docsvc.services.access import load_readable, refresh_readers
from docsvc.services.exchange import edxml
from docsvc.services.exchange.transport import Envelope, Transport, TransportError
from docsvc.services.files import FileStore
from docsvc.services.notifications import SUBJECT, notify_readers
from docsvc.services.outgoing import _clerks
from docsvc.services.reorganisation.succession import redirect_of
from docsvc.services.uploads import MAX_PAGES
from docsvc.timeutil import to_vn_iso

log = logging.getLogger("docsvc.exchange")

PROGRESS = ("01", "03", "04", "05", "06")  # a later one never goes back to an earlier one
TRANSPORTS = ("broker", "folder", "email")
BACKOFF_START, BACKOFF_MAX = timedelta(seconds=30), timedelta(hours=1)
#: Packages that put a document in the recipient's hands (a revoke or an update does not).
_DELIVERING = (int(edxml.Business.NEW), int(edxml.Business.REPLACE))
#: What an update may correct: the metadata that is not part of the document's identity.
UPDATABLE = ("subject", "due_date", "signer_name", "signer_position", "page_amount")


def _delivered_to_outside(doc_id: int) -> tuple[ColumnElement[bool], ...]:
    """The document's packages (new or replacing) a transport accepted for an outside recipient."""
    return (ExchangeMessage.document_id == doc_id, ExchangeMessage.kind == "package",
            ExchangeMessage.business.in_(_DELIVERING), ExchangeMessage.state == "sent",
            ExchangeMessage.recipient_id.is_not(None))


def sent_outside(s: Session, doc_id: int) -> bool:
    """A package of the document (new or replacing) was accepted by a transport for an outside
    recipient: an update or a replacement has somewhere to go."""
    return s.execute(select(ExchangeMessage.id).where(*_delivered_to_outside(doc_id)).limit(1)).first() is not None


def _checked_update(field_name: str, value: Any) -> Any:
    """One corrected value, checked as the document's own column would need it."""
    if field_name == "subject":
        text = str(value or "").strip()
        if not text or len(text) > 500:
            raise InvalidInput("subject (trích yếu) is required, at most 500 characters", {"field": "subject"})
        return text
    if field_name in ("signer_name", "signer_position"):
        text = str(value or "").strip()
        if len(text) > 200:
            raise InvalidInput(f"{field_name} is at most 200 characters", {"field": field_name})
        return text or None
    if field_name == "due_date":
        if value is None or isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise InvalidInput("due_date is a date (YYYY-MM-DD)", {"field": "due_date"}) from None
    if field_name == "page_amount":
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100000:
            raise InvalidInput("page_amount is a number of pages (1..100000)", {"field": "page_amount"})
        return value
    raise InvalidInput(f"{field_name} cannot be changed by an update", {"field": field_name})


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)


class ExchangeService:
    def __init__(self, db: Database, files: FileStore, signatures: Any, *, transports: dict[str, Transport],
                 default_transport: str, quarantine_dir: Path, max_attempts: int, max_upload_bytes: int,
                 max_pages: int = MAX_PAGES, require_xml_signature: bool = False,
                 kick: Callable[[], None] | None = None) -> None:
        self.db = db
        self.files = files
        self.signatures = signatures  # docsvc.services.signatures.SignatureService
        self.transports = transports
        self.default_transport = default_transport or (next(iter(transports)) if len(transports) == 1 else "")
        self.quarantine_dir = Path(quarantine_dir)
        self.max_attempts = max_attempts
        self.max_upload_bytes = max_upload_bytes
        self.max_pages = max_pages
        self.require_xml_signature = require_xml_signature
        self.kick = kick

    # ================================================================ directory
    def directory(self, actor: Actor, q: str = "", limit: int = 50) -> list[dict[str, Any]]:
        """The recipient picker: agencies on this system and outside agencies, by name or OrganId."""
        like = f"%{q.strip()}%"
        with self.db.read() as s:
            internal = s.execute(select(Organisation).where(
                Organisation.kind != "unit", Organisation.id != actor.agency_id,
                or_(Organisation.name.ilike(like), Organisation.organ_id.ilike(like))
            ).order_by(Organisation.name).limit(limit)).scalars().all()
            outside = s.execute(select(ExchangeAgency).where(
                ExchangeAgency.active.is_(True),
                or_(ExchangeAgency.name.ilike(like), ExchangeAgency.organ_id.ilike(like))
            ).order_by(ExchangeAgency.name).limit(limit)).scalars().all()
            return ([{"kind": "internal", "agency_id": o.id, "organ_id": o.organ_id, "name": o.name}
                     for o in internal]
                    + [{"kind": "outside", "organ_id": a.organ_id, "name": a.name, "email": a.email,
                        "transport": a.transport or self.default_transport or None} for a in outside])

    def save_agency(self, actor: Actor, *, organ_id: str, name: str, email: str | None = None,
                    transport: str | None = None, active: bool = True,
                    origin: RequestOrigin | None = None) -> dict[str, Any]:
        _require_admin(actor)
        with self.db.write() as s:
            row, created = self._upsert(s, organ_id, name, email, transport, active, where="")
            audit.record(s, actor=actor, action="exchange.agency_save", object_type="exchange_agency",
                         object_id=row.organ_id, origin=origin, details={"created": created, "name": row.name})
            return _agency_dict(row)

    def import_csv(self, actor: Actor, text: str, origin: RequestOrigin | None = None) -> ImportReport:
        """CSV with a header row: organ_id,name[,email][,transport][,active]. All rows or none."""
        import csv
        _require_admin(actor)
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        if not reader.fieldnames or not {"organ_id", "name"} <= {f.strip() for f in reader.fieldnames}:
            raise InvalidInput("the CSV needs a header row with at least organ_id,name", {"field": "file"})
        report = ImportReport()
        with self.db.write() as s:
            for line, raw in enumerate(reader, start=2):
                if line > 20001:
                    raise InvalidInput("at most 20,000 agencies per import", {"field": "file"})
                row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k}
                active = row.get("active", "").lower() not in ("0", "false", "no")
                _, created = self._upsert(s, row.get("organ_id", ""), row.get("name", ""), row.get("email") or None,
                                          row.get("transport") or None, active, where=f"line {line}: ")
                if created:
                    report.created += 1
                else:
                    report.updated += 1
            audit.record(s, actor=actor, action="exchange.agency_import", object_type="exchange_agency",
                         origin=origin, details={"created": report.created, "updated": report.updated})
        return report

    def directory_recipients(self, ids: list[int]) -> list[Any]:
        """Recipients (outgoing.RecipientInput) for outside agencies of the directory chosen by id."""
        from docsvc.services.outgoing import RecipientInput
        if not ids:
            return []
        with self.db.read() as s:
            rows = {a.id: a for a in s.execute(select(ExchangeAgency).where(ExchangeAgency.id.in_(sorted(set(ids))),
                                                                            ExchangeAgency.active.is_(True))).scalars()}
        missing = sorted(set(ids) - set(rows))
        if missing:
            raise InvalidInput(f"outside agency {missing[0]} is not in the directory", {"field": "outside_agency"})
        return [RecipientInput(name=rows[i].name, organ_id=rows[i].organ_id) for i in dict.fromkeys(ids)]

    def _upsert(self, s: Session, organ_id: str, name: str, email: str | None, transport: str | None,
                active: bool, *, where: str) -> tuple[ExchangeAgency, bool]:
        organ_id = organ_id.strip().upper()
        if not edxml.ORGAN_ID.match(organ_id):
            raise InvalidInput(f"{where}organ_id {organ_id!r} is not a 13-character agency code such as "
                               "000.00.00.H41", {"field": "organ_id"})
        if not name.strip() or len(name.strip()) > 200:
            raise InvalidInput(f"{where}name is required (at most 200 characters)", {"field": "name"})
        if email is not None and (len(email) > 254 or not re.fullmatch(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+", email)):
            raise InvalidInput(f"{where}{email!r} is not an e-mail address", {"field": "email"})
        if transport is not None and transport not in TRANSPORTS:
            raise InvalidInput(f"{where}transport is one of {', '.join(TRANSPORTS)}", {"field": "transport"})
        if transport == "email" and not email:
            raise InvalidInput(f"{where}an agency reached by e-mail needs its address", {"field": "email"})
        if s.execute(select(Organisation.id).where(Organisation.organ_id == organ_id)).first():
            raise InvalidInput(f"{where}{organ_id} is an agency on this system: it needs no directory entry",
                               {"field": "organ_id"})
        row = s.execute(select(ExchangeAgency).where(ExchangeAgency.organ_id == organ_id)).scalar_one_or_none()
        created = row is None
        if row is None:
            row = ExchangeAgency(organ_id=organ_id)
            s.add(row)
        row.name, row.email, row.transport, row.active = name.strip(), email, transport, active
        s.flush()
        return row, created

    # ================================================================ outbound (called inside use cases)
    def queue_issue(self, s: Session, doc: Document, rows: list[Recipient]) -> int:
        """Queue the package of a just-issued document for each outside recipient that has an
        OrganId (or an e-mail address in the directory). Others are paper recipients: nothing is
        queued and nothing claims they were sent."""
        outside = [r for r in rows if r.agency_id is None and r.unit_id is None]
        if not outside:
            return 0
        if doc.secrecy:
            raise InvalidInput("secret documents are not sent to outside agencies electronically",
                               {"field": "recipients"})
        if any(r.organ_id for r in outside) and not edxml.ORGAN_ID.match(doc.issuing_organ_id or ""):
            raise InvalidInput("this agency has no 13-character OrganId: an administrator sets it before documents "
                               "are sent to outside agencies", {"field": "recipients"})
        queued = 0
        for r in outside:
            if r.organ_id:
                if not edxml.ORGAN_ID.match(r.organ_id):
                    raise InvalidInput(f"recipient {r.name!r}: organ_id {r.organ_id!r} is not a 13-character "
                                       "agency code", {"field": "recipients"})
                if s.execute(select(Organisation.id).where(Organisation.organ_id == r.organ_id)).first():
                    raise InvalidInput(f"{r.organ_id} is an agency on this system: choose it by agency_id",
                                       {"field": "recipients"})
            entry = s.execute(select(ExchangeAgency).where(ExchangeAgency.organ_id == r.organ_id)
                              ).scalar_one_or_none() if r.organ_id else None
            transport = (entry.transport if entry else None) or self.default_transport or None
            if not r.organ_id:
                continue
            s.add(ExchangeMessage(message_id=edxml.new_message_id(), kind="package", document_id=doc.id,
                                  recipient_id=r.id, document_ref=_document_ref(doc), to_organ_id=r.organ_id,
                                  to_email=entry.email if entry else None, transport=transport,
                                  business=int(edxml.Business.NEW)))
            queued += 1
        if queued:
            self._kick_after(s)
        return queued

    def queue_recall(self, s: Session, doc: Document, reason: str) -> int:
        """A revoke package to each outside recipient whose package (new or replacing) was sent
        (their answer, 15/16, comes back as a status message); a package or update not sent yet is
        not sent at all."""
        packages = s.execute(select(ExchangeMessage).where(
            ExchangeMessage.document_id == doc.id, ExchangeMessage.kind == "package",
            ExchangeMessage.business != int(edxml.Business.REVOKE)).order_by(ExchangeMessage.id)).scalars().all()
        for m in packages:
            if m.state == "queued":
                m.state, m.last_error = "failed", "not sent: the document was recalled first"
        sent = [m for m in packages if m.state == "sent" and m.business in _DELIVERING]
        for m in sent:
            s.add(ExchangeMessage(message_id=edxml.new_message_id(), kind="package", document_id=doc.id,
                                  recipient_id=m.recipient_id, document_ref=m.document_ref, to_organ_id=m.to_organ_id,
                                  to_email=m.to_email, transport=m.transport,
                                  business=int(edxml.Business.REVOKE), description=reason))
        if sent:
            self._kick_after(s)
        return len(sent)

    # ================================================================ update and replace (issuing registry)
    def send_update(self, actor: Actor, doc_id: int, *, reason: str, changes: dict[str, Any],
                    origin: RequestOrigin | None = None) -> dict[str, Any]:
        """Correct the metadata of an issued document and send it, as an edXML update (business type
        2), to every outside recipient that has it. The number, notation and date stay: they are on
        the sealed PDF and name the document (its DocumentId); a wrong one needs a replacement."""
        reason = reason.strip()
        if not reason:
            raise InvalidInput("say what the update corrects", {"field": "reason"})
        unknown = sorted(set(changes) - set(UPDATABLE))
        if unknown:
            raise InvalidInput(f"{unknown[0]} cannot be changed by an update (only {', '.join(UPDATABLE)})",
                               {"field": unknown[0]})
        with self.db.write() as s:
            doc = load_readable(s, actor, doc_id, for_update=True)
            policies.may_update_outside(actor, doc, sent_outside=sent_outside(s, doc.id)).enforce()
            before = {k: _jsonable(getattr(doc, k)) for k in changes}
            for field_name, value in changes.items():
                setattr(doc, field_name, _checked_update(field_name, value))
            after = {k: _jsonable(getattr(doc, k)) for k in changes}
            changed = {k: {"from": before[k], "to": after[k]} for k in changes if before[k] != after[k]}
            if not changed:
                raise InvalidInput("the update changes nothing: give the corrected values", {"field": "changes"})
            queued = self._queue_to_holders(s, doc, edxml.Business.UPDATE, reason)
            outbox.index_document(s, doc.id)
            audit.record(s, actor=actor, action="document.exchange_update", object_type="document",
                         object_id=doc.id, origin=origin,
                         details={"reason": reason[:500], "changed": changed,
                                  "to": [m.to_organ_id for m in queued]})
            return {"document_id": doc.id, "changed": changed, "queued": [_message_dict(m) for m in queued]}

    def send_replacement(self, actor: Actor, doc_id: int, *, replacement_id: int, reason: str,
                         origin: RequestOrigin | None = None) -> dict[str, Any]:
        """Send the issued document ``replacement_id`` to every outside recipient of ``doc_id`` as its
        replacement (edXML business type 3, naming the replaced DocumentId). Each becomes a recipient
        of the replacement, with its own truthful status (queued, sent, 01, 03 ...)."""
        reason = reason.strip()
        if not reason:
            raise InvalidInput("say why the document is replaced", {"field": "reason"})
        with self.db.write() as s:
            old = load_readable(s, actor, doc_id, for_update=True)
            policies.may_replace_outside(actor, old, sent_outside=sent_outside(s, old.id)).enforce()
            try:
                new = load_readable(s, actor, replacement_id, for_update=True)
            except NotFound:
                raise InvalidInput(f"document {replacement_id} not found", {"field": "replacement_id"}) from None
            policies.may_replace_with(actor, old, new).enforce()
            holders = self._holders(s, old)
            already = {r.organ_id for r in s.execute(select(Recipient).where(Recipient.document_id == new.id))
                       .scalars() if r.organ_id}
            twice = sorted({m.to_organ_id or "" for m in holders} & already)
            if twice:
                raise InvalidState(f"the replacement was already sent to {twice[0]}", {"organ_id": twice[0]})
            replaced_ref = _document_ref(old)
            queued = []
            for m in holders:
                old_recipient = must_get(s, Recipient, m.recipient_id)
                r = Recipient(document_id=new.id, name=old_recipient.name, organ_id=m.to_organ_id)
                s.add(r)
                s.flush()
                row = ExchangeMessage(message_id=edxml.new_message_id(), kind="package", document_id=new.id,
                                      recipient_id=r.id, document_ref=_document_ref(new), to_organ_id=m.to_organ_id,
                                      to_email=m.to_email, transport=m.transport,
                                      business=int(edxml.Business.REPLACE), description=reason,
                                      replaces=replaced_ref)
                s.add(row)
                queued.append(row)
            s.flush()
            self._kick_after(s)
            refresh_readers(s, new)
            details = {"reason": reason[:500], "replaced": old.id, "replacement": new.id,
                       "to": [m.to_organ_id for m in queued]}
            audit.record(s, actor=actor, action="document.exchange_replace", object_type="document",
                         object_id=old.id, origin=origin, details=details)
            audit.record(s, actor=actor, action="document.exchange_replacement", object_type="document",
                         object_id=new.id, origin=origin, details=details)
            return {"document_id": old.id, "replacement_id": new.id, "replaces": replaced_ref,
                    "queued": [_message_dict(m) for m in queued]}

    def _holders(self, s: Session, doc: Document) -> list[ExchangeMessage]:
        """The last delivering package (new or replace) sent to each outside recipient of ``doc``."""
        out: dict[int, ExchangeMessage] = {}
        for m in s.execute(select(ExchangeMessage).where(*_delivered_to_outside(doc.id))
                           .order_by(ExchangeMessage.id)).scalars():
            if m.recipient_id is not None:  # always, by the query
                out[m.recipient_id] = m
        return list(out.values())

    def _queue_to_holders(self, s: Session, doc: Document, business: edxml.Business,
                          reason: str) -> list[ExchangeMessage]:
        queued = []
        for m in self._holders(s, doc):
            row = ExchangeMessage(message_id=edxml.new_message_id(), kind="package", document_id=doc.id,
                                  recipient_id=m.recipient_id, document_ref=_document_ref(doc),
                                  to_organ_id=m.to_organ_id, to_email=m.to_email, transport=m.transport,
                                  business=int(business), description=reason)
            s.add(row)
            queued.append(row)
        s.flush()
        if queued:
            self._kick_after(s)
        return queued

    def report_status(self, s: Session, doc: Document, code: str, note: str | None = None) -> bool:
        """Tell the sender of a document received by exchange what happened to it (02-06)."""
        origin_row = s.execute(select(ExchangeInbound).where(
            ExchangeInbound.document_id == doc.id, ExchangeInbound.kind == "package",
            ExchangeInbound.state == "imported")).scalars().first()
        if origin_row is None:
            return False
        self._queue_status(s, doc, origin_row, code, note or "")
        return True

    def _queue_status(self, s: Session, doc: Document, origin_row: ExchangeInbound, code: str, note: str) -> None:
        to_email = None
        if origin_row.transport == "email":  # the answer goes back by e-mail, to the directory's address
            entry = s.execute(select(ExchangeAgency).where(ExchangeAgency.organ_id == origin_row.from_organ_id)
                              ).scalar_one_or_none()
            to_email = entry.email if entry is not None else None
        s.add(ExchangeMessage(message_id=edxml.new_message_id(), kind="status", document_id=doc.id,
                              document_ref=origin_row.document_ref or "", to_organ_id=origin_row.from_organ_id,
                              to_email=to_email, transport=origin_row.transport, status_code=code, description=note))
        self._kick_after(s)

    def _kick_after(self, s: Session) -> None:
        if self.kick is not None:
            kick = self.kick
            after_commit(s, lambda: _quietly(kick))

    # ================================================================ sending
    def send_pending(self, limit: int = 100, *, via: Transport | None = None) -> SendReport:
        """Send what is due. ``via``: only the messages for that kind of transport, through this
        instance (``docsvc exchange export DIR`` writes the folder packages onto removable media)."""
        report = SendReport()
        with self.db.read() as s:
            q = select(ExchangeMessage.id).where(ExchangeMessage.state == "queued",
                                                 ExchangeMessage.next_attempt_at <= utcnow())
            if via is not None:
                q = q.where(or_(ExchangeMessage.transport == via.name, ExchangeMessage.transport.is_(None))
                            if via.name == self.default_transport else ExchangeMessage.transport == via.name)
            ids = list(s.execute(q.order_by(ExchangeMessage.id).limit(limit)).scalars())
        for message_id in ids:
            outcome = self._send_one(message_id, via)
            if outcome:
                setattr(report, outcome, getattr(report, outcome) + 1)
        return report

    def _send_one(self, row_id: int, via: Transport | None = None) -> str | None:
        with self.db.write() as s:
            m = s.get(ExchangeMessage, row_id, with_for_update=True)
            if m is None or m.state != "queued" or m.next_attempt_at > utcnow():
                return None
            m.attempts += 1
            try:
                transport = via or self._transport(m)
                try:
                    envelope = self._envelope(s, m)
                except TransportError:
                    raise
                except Exception as exc:  # noqa: BLE001 - store or key unavailable now: retried
                    raise TransportError(f"the message could not be built: {type(exc).__name__}: {exc}") from exc
                receipt = transport.send(envelope)
            except TransportError as exc:
                m.last_error = str(exc)[:2000]
                if exc.permanent or m.attempts >= self.max_attempts:
                    m.state = "failed"
                    audit.record(s, actor=None, action="exchange.send_failed", object_type="document",
                                 object_id=m.document_id, agency_id=must_get(s, Document, m.document_id).agency_id,
                                 outcome="failed", details={"to": m.to_organ_id, "error": m.last_error,
                                                             "message_id": m.message_id})
                    return "failed"
                m.next_attempt_at = utcnow() + min(BACKOFF_START * (2 ** (m.attempts - 1)), BACKOFF_MAX)
                return "retrying"
            m.state, m.sent_at, m.receipt, m.last_error = "sent", utcnow(), receipt.reference[:300], None
            m.transport = receipt.transport
            if m.kind == "package" and m.recipient_id is not None:
                r = must_get(s, Recipient, m.recipient_id)
                if m.business in _DELIVERING:
                    r.sent_at = m.sent_at
                    if r.status_code is None:
                        r.status_code = "00"  # sent: accepted by a transport, not yet acknowledged
                elif m.business == int(edxml.Business.REVOKE):
                    r.status_code = "13"
            audit.record(s, actor=None, action="exchange.send", object_type="document", object_id=m.document_id,
                         agency_id=must_get(s, Document, m.document_id).agency_id,
                         details={"to": m.to_organ_id, "kind": m.kind, "status_code": m.status_code,
                                  "business": m.business, "transport": receipt.transport,
                                  "message_id": m.message_id})
            return "sent"

    def _transport(self, m: ExchangeMessage) -> Transport:
        name = m.transport or self.default_transport
        if not name:
            raise TransportError(f"no exchange transport is configured for {m.to_organ_id}", permanent=True)
        transport = self.transports.get(name)
        if transport is None:
            raise TransportError(f"the {name} transport is not configured on this deployment", permanent=True)
        return transport

    def _envelope(self, s: Session, m: ExchangeMessage) -> Envelope:
        from signing.cms import sign_detached
        doc = must_get(s, Document, m.document_id)
        agency = must_get(s, Organisation, doc.agency_id)
        sender = edxml.Organ(agency.organ_id or "", agency.name)
        attachment: tuple[str, bytes] | None = None
        if m.kind == "status":
            body = edxml.build_status(edxml.StatusMessage(
                message_id=m.message_id, sender=sender, to=edxml.Organ(m.to_organ_id or ""),
                response_document_id=m.document_ref, status_code=m.status_code or "", description=m.description))
        else:
            package, attachment = self._package(s, doc, m, sender)
            body = edxml.build_package(package)
        signer = self.signatures.agency_signer(s, agency)
        try:
            body = edxml.sign_header(body, signer.key)  # the enveloped XML-DSig other systems check
            signature = sign_detached(body, signer.key)  # the whole bytes, as the transports carry them
        except Exception as exc:  # noqa: BLE001 - a key or token that cannot sign now: retry later
            raise TransportError(f"the organisation's key could not sign the package: {exc}") from exc
        return Envelope(message_id=m.message_id, to_organ_id=m.to_organ_id or "", body=body, signature=signature,
                        from_organ_id=sender.organ_id, kind=m.kind, to_email=m.to_email,
                        attachment_name=attachment[0] if attachment else None,
                        attachment=attachment[1] if attachment else None)

    def _package(self, s: Session, doc: Document, m: ExchangeMessage, sender: edxml.Organ
                 ) -> tuple[edxml.Package, tuple[str, bytes] | None]:
        recipients = s.execute(select(Recipient).where(Recipient.document_id == doc.id)
                               .order_by(Recipient.id)).scalars().all()
        r = s.get(Recipient, m.recipient_id) if m.recipient_id else None
        files = []
        if m.business != int(edxml.Business.REVOKE):
            for role in ("issued", "issued_att"):
                files += list(s.execute(select(DocumentFile).where(
                    DocumentFile.document_id == doc.id, DocumentFile.role == role,
                    DocumentFile.version == doc.current_version).order_by(DocumentFile.id)).scalars())
            if role_files := [f for f in files if f.role == "issued"]:
                files = [role_files[-1]] + [f for f in files if f.role == "issued_att"]
        attachments = []
        for f in files:
            data = self.files.read_bytes(f.object_key)
            if hashlib.sha256(data).hexdigest() != f.sha256:
                raise TransportError(f"stored file {f.id} does not match its SHA-256", permanent=True)
            attachments.append(edxml.Attachment(name=f.filename, data=data, content_type=f.content_type,
                                                description="Văn bản" if f.role == "issued" else "Phụ lục"))
        doc_type = must_get(s, DocumentType, doc.type_id)
        if doc.issued_date is None:  # only issued documents are sent; an issue date is part of the package
            raise TransportError(f"document {doc.id} has no issue date", permanent=True)
        package = edxml.Package(
            message_id=m.message_id, sender=sender, to=(edxml.Organ(m.to_organ_id or "", r.name if r else ""),),
            code_number=doc.code_number or "", code_notation=doc.code_notation or "",
            promulgation_place=sender.name, promulgation_date=doc.issued_date,
            type_code=doc_type.code or "", type_name=doc_type.name, subject=doc.subject,
            signer_competence=doc.authority_form or "", signer_position=doc.signer_position or "",
            signer_name=doc.signer_name or "", due_date=doc.due_date,
            to_places=tuple(x.name for x in recipients), priority=doc.urgency, page_amount=doc.page_amount,
            business=edxml.Business(m.business), business_reason=m.description, replaces=m.replaces or "",
            traces=(edxml.Trace(sender.organ_id, utcnow()),), attachments=tuple(attachments))
        main = (attachments[0].name, attachments[0].data) if attachments else None
        return package, main

    # ================================================================ receiving
    def receive(self, limit: int = 100) -> int:
        """Take what waits for this deployment's agencies on every transport."""
        with self.db.read() as s:
            organ_ids = [o for o in s.execute(select(Organisation.organ_id).where(
                Organisation.kind != "unit", Organisation.organ_id.is_not(None))).scalars() if o]
        handled = 0
        for transport in self.transports.values():
            try:
                handled += transport.receive(organ_ids, self.handle, limit=limit)
            except TransportError as exc:
                log.warning("exchange: receiving from %s failed: %s", transport.name, exc)
        return handled

    def receive_folder(self, path: Path, limit: int = 10000) -> int:
        """Import the packages and statuses a removable medium (or another folder) holds for this
        deployment's agencies, exactly as the folder transport would."""
        from docsvc.services.exchange.folder import FolderTransport
        with self.db.read() as s:
            organ_ids = [o for o in s.execute(select(Organisation.organ_id).where(
                Organisation.kind != "unit", Organisation.organ_id.is_not(None))).scalars() if o]
        return FolderTransport(path).receive(organ_ids, self.handle, limit=limit)

    def handle(self, envelope: Envelope, transport: str) -> str:
        """Apply one envelope; returns the state recorded (imported, applied, pending, rejected,
        duplicate). Raises only when the database is unusable, so the transport redelivers."""
        from signing.cms import verify_detached
        digest = hashlib.sha256(envelope.body + (envelope.signature or b"")).hexdigest()
        verdict = verify_detached(envelope.body, envelope.signature, self.signatures.trust)
        if not verdict.valid:
            return self._reject(envelope, transport, digest, verdict.reason or "the signature is not valid")
        try:
            kind = edxml.kind_of(envelope.body)
            parsed: Any = edxml.parse_package(envelope.body, max_attachment_bytes=self.max_upload_bytes) \
                if kind == "package" else edxml.parse_status(envelope.body)
        except edxml.EdxmlError as exc:
            return self._reject(envelope, transport, digest, exc.reason)
        if verdict.signer != parsed.sender.name:  # an agency signs only for itself
            return self._reject(envelope, transport, digest, f"signed by {verdict.signer!r}, not by the sender "
                                                             f"{parsed.sender.name!r} ({parsed.sender.organ_id})")
        assert verdict.certificate_der is not None  # a valid verdict names its certificate
        try:
            header = edxml.verify_header(envelope.body, verdict.certificate_der)
        except edxml.EdxmlError as exc:
            return self._reject(envelope, transport, digest, exc.reason)
        if header.present and not header.valid:
            return self._reject(envelope, transport, digest, header.reason or "the XML signature is not valid")
        if not header.present and self.require_xml_signature:
            return self._reject(envelope, transport, digest, "the edXML header carries no XML signature "
                                                             "(DOCSVC_EXCHANGE_REQUIRE_XML_SIGNATURE)")
        xml_signature = "valid" if header.present else "absent"
        if not header.present:  # accepted: its CMS signature already proved who sent it and that it is intact
            log.warning("exchange: message %s from %s has no XML signature in its header", parsed.message_id,
                        parsed.sender.organ_id)
        with self.db.read() as s:
            if s.execute(select(ExchangeInbound.id).where(ExchangeInbound.message_id == parsed.message_id)).first():
                return "duplicate"
        try:
            if kind == "status":
                return self._apply_status(parsed, transport, digest, xml_signature)
            return self._apply_package(parsed, envelope.to_organ_id, transport, digest, xml_signature)
        except _Refused as exc:
            return self._reject(envelope, transport, digest, exc.reason)
        except IntegrityError:  # the same message applied concurrently: it is there once
            return "duplicate"

    def _reject(self, envelope: Envelope, transport: str, digest: str, reason: str) -> str:
        """Record the refusal and keep the bytes for inspection; a message that is not trusted
        cannot reserve its message id (the id of a rejected copy is its digest)."""
        folder = self.quarantine_dir
        folder.mkdir(parents=True, exist_ok=True)
        base = folder / digest[:32]
        base.with_suffix(".xml").write_bytes(envelope.body)
        if envelope.signature:
            base.with_suffix(".p7s").write_bytes(envelope.signature)
        base.with_suffix(".reason.txt").write_text(f"{reason}\nmessage id (unverified): {envelope.message_id}\n"
                                                  f"transport: {transport}\n", encoding="utf-8")
        with self.db.write() as s:
            if s.execute(select(ExchangeInbound.id).where(ExchangeInbound.message_id == f"rejected-{digest[:55]}")
                         ).first():
                return "rejected"
            s.add(ExchangeInbound(message_id=f"rejected-{digest[:55]}", kind="invalid", transport=transport,
                                  to_organ_id=envelope.to_organ_id[:13] or None, state="rejected", reason=reason[:2000],
                                  sha256=digest, quarantine=str(base.with_suffix(".xml"))))
            agency = s.execute(select(Organisation).where(Organisation.organ_id == envelope.to_organ_id)
                               ).scalar_one_or_none()
            audit.record(s, actor=None, action="exchange.reject", object_type="exchange_inbound",
                         object_id=digest[:32], agency_id=agency.id if agency else None, outcome="failed",
                         details={"reason": reason[:500], "transport": transport})
        log.warning("exchange: rejected a message for %s: %s", envelope.to_organ_id, reason)
        return "rejected"

    def _apply_package(self, p: edxml.Package, to_organ_id: str, transport: str, digest: str,
                       xml_signature: str) -> str:
        if to_organ_id not in {o.organ_id for o in p.to}:
            raise _Refused(f"the package is not addressed to {to_organ_id}")
        with self.db.read() as s:
            agency = s.execute(select(Organisation).where(Organisation.organ_id == to_organ_id,
                                                          Organisation.kind != "unit")).scalar_one_or_none()
            if agency is None:
                raise _Refused(f"{to_organ_id} is not an agency of this deployment")
            # an agency that ceased (reorganisation): its successor receives, with a note, and the sender is told
            redirect = redirect_of(s, agency.id)
            agency_id = redirect.successor_id if redirect is not None else agency.id
        if p.business == edxml.Business.REVOKE:
            return self._apply_revoke(p, agency_id, transport, digest, xml_signature)
        main = p.attachments[0]
        from docsvc.services.uploads import inspect_upload
        try:
            facts = [inspect_upload(io.BytesIO(a.data), a.name, max_bytes=self.max_upload_bytes,
                                    max_pages=self.max_pages, field="attachment") for a in p.attachments]
        except DomainError as exc:  # InvalidInput / UnsupportedMediaType / PayloadTooLarge
            raise _Refused(f"an attached file is not accepted: {exc.message}") from None
        if not facts[0].is_pdf:
            raise _Refused("the main file of the package is not a PDF")
        report = self.signatures.validate(main.data)  # as for internal delivery: validated on receipt
        stored = [self.files.put_bytes(a.data, a.name[:255], f.content_type)
                  for a, f in zip(p.attachments, facts, strict=True)]
        with self.db.write() as s:
            doc_type = _type_for(s, p.type_code, p.type_name)
            note = _business_note(s, p)
            description = f"{note}: {p.business_reason}" if note else p.business_reason
            if redirect is not None:
                description = redirect.note + (f"\n{description}" if description else "")
            doc = Document(agency_id=agency_id, direction=Direction.INCOMING.value, type_id=doc_type.id,
                           status=Status.RECEIVED.value, subject=p.subject[:500], code_number=p.code_number,
                           code_notation=p.code_notation, issued_date=p.promulgation_date,
                           issuing_body=p.sender.name[:200] or p.sender.organ_id, issuing_organ_id=p.sender.organ_id,
                           signer_name=p.signer_name or None, signer_position=p.signer_position or None,
                           authority_form=p.signer_competence[:8] or None, urgency=p.priority, secrecy=0,
                           due_date=p.due_date, page_amount=p.page_amount or facts[0].page_count,
                           description=description[:4000],
                           arrival_at=utcnow(), received_via="edxml", current_version=1,
                           dup_key=duplicate_key(p.code_number, p.code_notation, p.sender.organ_id))
            s.add(doc)
            s.flush()
            for i, (sf, f) in enumerate(zip(stored, facts, strict=True)):
                s.add(DocumentFile(document_id=doc.id, version=1, role="main" if i == 0 else "attachment",
                                   object_key=sf.key, sha256=sf.sha256, size=sf.size, filename=sf.filename,
                                   content_type=sf.content_type, page_count=f.page_count, encrypted=False,
                                   validation=report if i == 0 else None,
                                   active_content=list(f.active_content) or None))
            row = ExchangeInbound(message_id=p.message_id, kind="package", transport=transport,
                                  from_organ_id=p.sender.organ_id, to_organ_id=to_organ_id,
                                  document_ref=p.document_id, business=int(p.business), state="imported",
                                  replaces=p.replaces or None, xml_signature=xml_signature, document_id=doc.id,
                                  sha256=digest)
            s.add(row)
            s.flush()
            refresh_readers(s, doc)
            notify_readers(s, doc, _clerks(s, agency_id), "incoming.arrived",
                           f"Văn bản đến (liên thông) từ {doc.issuing_body}: {SUBJECT}")
            audit.record(s, actor=None, action="document.receive_exchange", object_type="document", object_id=doc.id,
                         agency_id=agency_id, details={"from": p.sender.organ_id, "document_ref": p.document_id,
                                                       "message_id": p.message_id, "transport": transport,
                                                       "verdict": report.get("verdict"),
                                                       "xml_signature": xml_signature, "replaces": p.replaces or None,
                                                       "business": int(p.business),
                                                       "files": [sf.sha256 for sf in stored],
                                                       **({"addressed_to": to_organ_id} if redirect else {})})
            # acknowledged the day it arrives: at once (by the successor, saying why, when the addressee ceased)
            self._queue_status(s, doc, row, "01", redirect.note if redirect is not None else "")
        return "imported"

    def _apply_revoke(self, p: edxml.Package, agency_id: int, transport: str, digest: str,
                      xml_signature: str) -> str:
        with self.db.write() as s:
            original = s.execute(select(ExchangeInbound).where(
                ExchangeInbound.document_ref == p.document_id, ExchangeInbound.from_organ_id == p.sender.organ_id,
                ExchangeInbound.kind == "package", ExchangeInbound.state == "imported")).scalars().first()
            if original is None or original.document_id is None:
                raise _Refused(f"the recall names document {p.document_id}, which was not received here")
            s.add(ExchangeInbound(message_id=p.message_id, kind="package", transport=transport,
                                  from_organ_id=p.sender.organ_id, to_organ_id=original.to_organ_id,
                                  document_ref=p.document_id, business=int(p.business), state="pending",
                                  reason=p.business_reason[:2000], document_id=original.document_id, sha256=digest,
                                  xml_signature=xml_signature))
            doc = must_get(s, Document, original.document_id)
            notify_readers(s, doc, _clerks(s, agency_id), "incoming.recall_requested",
                           f"Bên gửi đề nghị thu hồi văn bản {number_notation(doc.code_number, doc.code_notation)}: "
                           f"{p.business_reason[:200]} — đồng ý hoặc từ chối")
            audit.record(s, actor=None, action="document.recall_requested", object_type="document",
                         object_id=doc.id, agency_id=agency_id,
                         details={"from": p.sender.organ_id, "reason": p.business_reason[:500]})
        return "pending"

    def _apply_status(self, m: edxml.StatusMessage, transport: str, digest: str, xml_signature: str) -> str:
        with self.db.write() as s:
            # The package it answers: new, replacing or updating (an update keeps its DocumentId, so
            # the answers about it move the same recipient); a revoke is answered by 15/16 the same way.
            sent = s.execute(select(ExchangeMessage).where(
                ExchangeMessage.kind == "package", ExchangeMessage.recipient_id.is_not(None),
                ExchangeMessage.document_ref == m.response_document_id,
                ExchangeMessage.to_organ_id == m.sender.organ_id).order_by(ExchangeMessage.id)).scalars().first()
            successor_of: str | None = None
            if sent is None:  # the addressee ceased and its successor answers (see _sent_to_a_predecessor)
                sent = _sent_to_a_predecessor(s, m)
                successor_of = sent.to_organ_id if sent is not None else None
            if sent is None or sent.recipient_id is None:
                raise _Refused(f"the status names document {m.response_document_id}, which was not sent to "
                               f"{m.sender.organ_id} from here")
            r = must_get(s, Recipient, sent.recipient_id)
            current = r.status_code
            if not (m.status_code in PROGRESS and current in PROGRESS
                    and PROGRESS.index(m.status_code) < PROGRESS.index(current)):
                r.status_code = m.status_code
            if m.description:
                r.note = m.description[:2000]
            s.add(ExchangeInbound(message_id=m.message_id, kind="status", transport=transport,
                                  from_organ_id=m.sender.organ_id, to_organ_id=m.to.organ_id,
                                  document_ref=m.response_document_id, status_code=m.status_code, state="applied",
                                  reason=m.description[:2000] or None, document_id=sent.document_id,
                                  recipient_id=r.id, sha256=digest, xml_signature=xml_signature))
            doc = must_get(s, Document, sent.document_id)
            audit.record(s, actor=None, action="exchange.status", object_type="document", object_id=doc.id,
                         agency_id=doc.agency_id, details={"from": m.sender.organ_id, "status_code": m.status_code,
                                                           "description": m.description[:500],
                                                           **({"successor_of": successor_of} if successor_of else {})})
            if successor_of and f"({successor_of})" in m.description:  # the first answer says why: tell the registry
                notify_readers(s, doc, _clerks(s, doc.agency_id), "outgoing.redirected",
                               f"{r.name}: {m.description[:300]} — {SUBJECT}")
            if m.status_code in ("02", "15", "16"):
                notify_readers(s, doc, _clerks(s, doc.agency_id), f"exchange.status_{m.status_code}",
                               f"{r.name}: {edxml.STATUS_TEXT[m.status_code]}"
                               + (f" — {m.description[:200]}" if m.description else ""))
        return "applied"

    # ================================================================ recall answers (receiver side)
    def answer_recall(self, actor: Actor, doc_id: int, *, accept: bool, reason: str = "",
                      origin: RequestOrigin | None = None) -> dict[str, Any]:
        """The receiving registry accepts (15: the copy is withdrawn) or refuses (16, with a reason)
        the sender's recall of a document received by exchange."""
        if not accept and not reason.strip():
            raise InvalidInput("say why the recall is refused", {"field": "reason"})
        with self.db.write() as s:
            doc = load_readable(s, actor, doc_id, for_update=True)
            if not actor.has(Role.CLERK) or actor.agency_id != doc.agency_id:
                raise PermissionDenied("the registry of the receiving agency answers a recall")
            pending = s.execute(select(ExchangeInbound).where(
                ExchangeInbound.document_id == doc.id, ExchangeInbound.state == "pending")).scalars().first()
            original = s.execute(select(ExchangeInbound).where(
                ExchangeInbound.document_id == doc.id, ExchangeInbound.kind == "package",
                ExchangeInbound.state == "imported")).scalars().first()
            if pending is None or original is None:
                raise InvalidState("the sender has not asked to recall this document")
            if accept and doc.status != Status.WITHDRAWN.value:
                check_transition(Direction.INCOMING, Status(doc.status), Status.WITHDRAWN)
                doc.status, doc.status_reason = Status.WITHDRAWN.value, f"Thu hồi: {pending.reason or ''}"
                refresh_readers(s, doc)
            pending.state = "applied"
            code = "15" if accept else "16"
            self._queue_status(s, doc, original, code, reason.strip())
            audit.record(s, actor=actor, action="document.recall_answer", object_type="document", object_id=doc.id,
                         origin=origin, details={"accepted": accept, "reason": reason.strip()})
            return {"document_id": doc.id, "status_code": code, "status": doc.status}

    # ================================================================ what the pages and the API show
    def recipient_states(self, s: Session, doc_id: int) -> dict[int, dict[str, Any]]:
        """Per recipient of an outgoing document: its last outbound message and the statuses that
        came back, oldest first (times in +07:00)."""
        out: dict[int, dict[str, Any]] = {}
        for m in s.execute(select(ExchangeMessage).where(ExchangeMessage.document_id == doc_id,
                                                         ExchangeMessage.recipient_id.is_not(None))
                           .order_by(ExchangeMessage.id)).scalars():
            if m.recipient_id is not None:  # always, by the query
                out.setdefault(m.recipient_id, {"statuses": []})["message"] = _message_dict(m)
        for i in s.execute(select(ExchangeInbound).where(ExchangeInbound.document_id == doc_id,
                                                         ExchangeInbound.kind == "status")
                           .order_by(ExchangeInbound.id)).scalars():
            if i.recipient_id in out:
                out[i.recipient_id]["statuses"].append({"code": i.status_code, "description": i.reason,
                                                        "at": to_vn_iso(i.received_at)})
        return out

    def document_exchange(self, actor: Actor, doc_id: int) -> dict[str, Any]:
        with self.db.read() as s:
            doc = load_readable(s, actor, doc_id)
            if actor.agency_id != doc.agency_id:
                raise NotFound(f"document {doc_id} not found")
            messages = s.execute(select(ExchangeMessage).where(ExchangeMessage.document_id == doc.id)
                                 .order_by(ExchangeMessage.id)).scalars().all()
            inbound = s.execute(select(ExchangeInbound).where(ExchangeInbound.document_id == doc.id)
                                .order_by(ExchangeInbound.id)).scalars().all()
            return {"outbound": [_message_dict(m) for m in messages],
                    "inbound": [{"kind": i.kind, "from": i.from_organ_id, "business": i.business,
                                 "replaces": i.replaces, "xml_signature": i.xml_signature,
                                 "status_code": i.status_code, "state": i.state, "reason": i.reason,
                                 "transport": i.transport, "received_at": to_vn_iso(i.received_at)} for i in inbound],
                    "recall_pending": any(i.state == "pending" for i in inbound)}

    def rejected(self, actor: Actor, limit: int = 100) -> list[dict[str, Any]]:
        """Rejected messages addressed to the actor's agency (registry and admins)."""
        if not actor.has(Role.CLERK, Role.ADMIN):
            raise PermissionDenied("only the registry and administrators see rejected messages")
        with self.db.read() as s:
            organ_id = must_get(s, Organisation, actor.agency_id).organ_id
            rows = s.execute(select(ExchangeInbound).where(ExchangeInbound.state == "rejected",
                                                           ExchangeInbound.to_organ_id == organ_id)
                             .order_by(ExchangeInbound.id.desc()).limit(limit)).scalars().all()
            return [{"id": r.id, "reason": r.reason, "transport": r.transport, "sha256": r.sha256,
                     "received_at": to_vn_iso(r.received_at)} for r in rows]


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _sent_to_a_predecessor(s: Session, m: edxml.StatusMessage) -> ExchangeMessage | None:
    """The package this status answers when it comes from the successor of the agency it was sent to (the
    addressee ceased in a reorganisation and its successor received it). The successor's first answer names
    the addressee's OrganId in its description ("… (000.00.31.H41) đã chấm dứt hoạt động …, chuyển đến cơ
    quan kế thừa …"); later answers are matched by that first one having been applied. A signed status from
    any other agency still names no package of ours. Like `_apply_status`'s own lookup, any business type
    counts: a replacement carries its own DocumentId and is answered under it."""
    candidates = s.execute(select(ExchangeMessage).where(
        ExchangeMessage.kind == "package", ExchangeMessage.document_ref == m.response_document_id,
        ExchangeMessage.recipient_id.is_not(None)).order_by(ExchangeMessage.id)).scalars().all()
    for c in candidates:
        if c.to_organ_id and f"({c.to_organ_id})" in m.description:
            return c
        if s.execute(select(ExchangeInbound.id).where(
                ExchangeInbound.kind == "status", ExchangeInbound.state == "applied",
                ExchangeInbound.from_organ_id == m.sender.organ_id, ExchangeInbound.recipient_id == c.recipient_id,
                ExchangeInbound.document_ref == m.response_document_id)).first():
            return c
    return None


def _message_dict(m: ExchangeMessage) -> dict[str, Any]:
    return {"message_id": m.message_id, "kind": m.kind, "to": m.to_organ_id, "transport": m.transport,
            "business": edxml.Business(m.business).name.lower(), "replaces": m.replaces, "status_code": m.status_code,
            "state": m.state, "attempts": m.attempts, "last_error": m.last_error,
            "next_attempt_at": to_vn_iso(m.next_attempt_at) if m.state == "queued" else None,
            "sent_at": to_vn_iso(m.sent_at) if m.sent_at else None, "created_at": to_vn_iso(m.created_at)}


def _agency_dict(a: ExchangeAgency) -> dict[str, Any]:
    return {"organ_id": a.organ_id, "name": a.name, "email": a.email, "transport": a.transport, "active": a.active}


def _issued_on(doc: Document) -> date:
    """The issue date of a document going outside (only issued documents are sent or answered about)."""
    if doc.issued_date is None:
        raise InvalidState(f"document {doc.id} has not been issued", {"document_id": doc.id})
    return doc.issued_date


def _document_ref(doc: Document) -> str:
    return edxml.document_id(doc.issuing_organ_id or "", _issued_on(doc), doc.code_number or "",
                             doc.code_notation or "")


def _require_admin(actor: Actor) -> None:
    """Administrators and the registry keep the directory; ``SYSTEM`` is the operator at the CLI."""
    if not is_system(actor) and not actor.has(Role.ADMIN, Role.CLERK):
        raise PermissionDenied("the agency directory is kept by administrators and the registry")


def _type_for(s: Session, code: str, name: str) -> DocumentType:
    t = None
    if code:
        t = s.execute(select(DocumentType).where(DocumentType.code == code)).scalars().first()
    if t is None and name:
        t = s.execute(select(DocumentType).where(DocumentType.name == name)).scalars().first()
    if t is None:
        t = s.execute(select(DocumentType).where(DocumentType.kind == "cong_van")).scalars().first()
    if t is None:
        raise InvalidState("no document type to file the package under: the 'cong_van' type is missing")
    return t


def _business_note(s: Session, p: edxml.Package) -> str:
    """What the description of a received update or replacement says about the document it acts
    on: its DocumentId and, when it was received here, its incoming number."""
    if p.business not in (edxml.Business.UPDATE, edxml.Business.REPLACE):
        return ""
    target = p.replaces if p.business == edxml.Business.REPLACE else p.document_id
    earlier = s.execute(select(Document).join(ExchangeInbound, ExchangeInbound.document_id == Document.id).where(
        ExchangeInbound.document_ref == target, ExchangeInbound.from_organ_id == p.sender.organ_id,
        ExchangeInbound.kind == "package", ExchangeInbound.state == "imported")
        .order_by(ExchangeInbound.id)).scalars().first()
    here = f" (số đến {earlier.arrival_number})" if earlier is not None and earlier.arrival_number else \
        (" (đã nhận)" if earlier is not None else " (chưa nhận được văn bản này)")
    if p.business == edxml.Business.REPLACE:
        return f"Văn bản thay thế văn bản {target}{here}"
    return f"Văn bản đính chính/cập nhật văn bản {target}{here}"


def _quietly(fn: Callable[[], None]) -> None:
    try:
        fn()
    except Exception:  # noqa: BLE001 - the periodic run catches up
        log.warning("exchange: kick postponed", exc_info=True)
