"""Outgoing documents after approval: the signer's signature, issuing, delivery, recall, copies.

Order of work (DOMAIN.md, Outgoing flow): the competent person signs (``sign``, with their PIN,
on their chain step or as a valid delegate); the registry then ``issue``s: takes the next number
of the right series, applies the organisation's signature (red seal over the signer's image; text
signatures on separate attachments), records the recipients, and delivers to internal agencies,
where the document arrives as incoming with its signatures validated. ``recall`` freezes the
issuer's copy and withdraws the recipients' copies; each recipient registry confirms.
``copy`` makes an electronic copy (sao y / sao lục / trích sao) in its own series.

Number allocation, the organisation's signature and every row of an issue are one transaction:
a failure at any point leaves no number taken, no half-issued document and no orphan object.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import Document, DocumentFile, Organisation, Recipient, User
from docsvc.db.rows import must_get
from docsvc.db.uow import Database, after_commit
from docsvc.domain import policies
from docsvc.domain.approval import AuthorityForm, StepKind
from docsvc.domain.documents import (
    Direction,
    SeriesKey,
    Status,
    check_transition,
    format_number,
    notation_for,
    number_notation,
    outgoing_series,
)
from docsvc.domain.identity import Actor, RequestOrigin, Role
from docsvc.errors import Conflict, InvalidInput, InvalidState, Msg, PermissionDenied
from docsvc.services import audit, page_positions, registers
from docsvc.services.access import load_readable, refresh_readers
from docsvc.services.approval import chains
from docsvc.services.documents import DocumentView, document_dict
from docsvc.services.files import FileStore, StoredFile
from docsvc.services.notifications import SUBJECT, notify_readers
from docsvc.services.reorganisation.succession import redirect_of
from docsvc.services.signatures import SignatureService, SigningFailed
from docsvc.timeutil import to_vn, to_vn_iso, vn_today

log = logging.getLogger("docsvc.outgoing")

# edXML status codes the sender sees for each recipient (Decision 28/2018 exchange statuses).
SENT, ARRIVED, RECALL_REQUESTED, RECALL_CONFIRMED = "00", "01", "13", "15"


def awaiting_confirmation(recipient: Recipient | None) -> bool:
    """The recipient row of a received copy says its sender recalled it and nobody confirmed yet."""
    return recipient is not None and recipient.status_code != RECALL_CONFIRMED


#: The note on a recipient whose registry has no member cleared for the document.
NO_CLEARED_REGISTRY = "no registry member of the recipient is cleared for this document: nobody was notified"

COPY_FORMS = {"SY": "SAO Y", "SL": "SAO LỤC", "TrS": "TRÍCH SAO"}
PDF = "application/pdf"


@dataclass(frozen=True)
class SignatureRequest:
    appearance: Any  # signing.appearance.SignerAppearance
    reason: str
    issue_fields: Any  # signing.pades.IssueFieldsRequest


def explain_signing_failure(exc: SigningFailed, doc_id: int) -> SigningFailed:
    """Signing without a place for the number and date says who fixes it and where."""
    if exc.code == "issue_fields_missing":
        return SigningFailed(f"{exc.message}. The registry gives the positions of the number and date "
                             f"(document page, or PUT /api/v1/documents/{doc_id}/page-positions) before "
                             "it is signed.", exc.code, exc.status)
    return exc


@dataclass(frozen=True)
class RecipientInput:
    agency_id: int | None = None  # an agency on this system: delivered as incoming
    unit_id: int | None = None  # a unit of the issuing agency: may read the issued document
    name: str | None = None  # an outside body (sent through the national exchange, outside this system)
    organ_id: str | None = None


class OutgoingService:
    def __init__(self, db: Database, files: FileStore, signatures: SignatureService, *,
                 hide_top_secret_subject: bool, secrecy_policy: str,
                 enqueue: Callable[..., None] | None = None, exchange: Any | None = None) -> None:
        self.db = db
        self.files = files
        self.signatures = signatures
        self.hide_top_secret_subject = hide_top_secret_subject
        self.secrecy_policy = secrecy_policy
        self.enqueue = enqueue
        # Exchange with other systems (docsvc.services.exchange.ExchangeService): outside recipients
        # are queued there and shown as sent only once a transport accepted their package.
        self.exchange = exchange

    # ------------------------------------------------------------ sign
    def unlock_signer(self, actor: Actor, pin: str) -> None:
        """Open the caller's signing key with ``pin`` once (a batch signature checks its PIN before
        it starts; the key ring keeps the key open for the signatures that follow)."""
        with self.db.read() as s:
            user = must_get(s, User, actor.user_id)
            self.signatures.user_signer(s, user, pin)

    def sign(self, actor: Actor, doc_id: int, *, pin: str, origin: RequestOrigin | None = None) -> DocumentView:
        """The signer's digital signature on the approved content (certifies the document), with
        the key the server holds for them (PKCS#12 under their PIN). Keys that stay with the
        signer (token, remote signing) go through :mod:`docsvc.services.split_signing`."""
        if not pin:
            raise InvalidInput(Msg("outgoing.enter_your_pin", "enter your PIN"), {"field": "pin"})
        with self.db.write() as s:
            doc, turn, main = self.signing_turn(s, actor, doc_id)
            user = must_get(s, User, actor.user_id)
            signer = self.signatures.user_signer(s, user, pin)
            request = self.signature_request(s, doc, user, turn, signer.image)
            try:
                signed = self.signatures.sign(self.files.read_bytes(main.object_key), signer, request.appearance,
                                              certify=True, reason=request.reason,
                                              issue_fields=request.issue_fields)
            except SigningFailed as exc:
                raise explain_signing_failure(exc, doc.id) from None
            return self.record_signature(s, actor, doc, turn, main, user, signed, origin=origin)

    def signing_turn(self, s: Session, actor: Actor, doc_id: int) -> tuple[Document, Any, DocumentFile]:
        """The document (locked), the caller's signing turn on it and the approved file to sign:
        refused when it is not the caller's turn or the content changed after approval."""
        doc = load_readable(s, actor, doc_id, for_update=True)
        turn = chains.turn(s, doc, actor, StepKind.SIGN)
        if turn is None:
            raise PermissionDenied(Msg("outgoing.document_not_waiting_your_signature",
                                       "this document is not waiting for your signature"))
        main = main_file(s, doc)
        if main.sha256 != turn.instance.content_sha256:
            raise Conflict(Msg("outgoing.content_changed_after_approval_goes_back",
                               "the content changed after approval: it goes back through the chain"))
        return doc, turn, main

    def signature_request(self, s: Session, doc: Document, user: User, turn: Any, image: bytes) -> SignatureRequest:
        """What the competent person's signature carries, wherever the key is: the appearance
        (authority form), the reason, and the issue fields the certification creates."""
        return SignatureRequest(self._signer_appearance(s, user, turn, image), f"Ký ban hành: {doc.subject[:200]}",
                                page_positions.issue_fields_request(doc))

    def record_signature(self, s: Session, actor: Actor, doc: Document, turn: Any, main: DocumentFile, user: User,
                         signed: bytes, *, origin: RequestOrigin | None = None,
                         details: dict[str, Any] | None = None) -> DocumentView:
        """Store the signed PDF and move the chain on, in the caller's transaction (the object is
        removed again if the transaction fails)."""
        stored = self.put_pdf(signed, _renamed(main.filename, "ky"), doc)
        try:
            s.add(_file_row(doc, "signed", stored, main, actor))
            chains.record(s, turn, actor, "signed")
            doc.signer_name = user.full_name
            doc.signer_position = user.position or None
            doc.authority_form = turn.authority_form
            chains.advance(s, doc, turn.instance, turn.step)
            refresh_readers(s, doc)
            audit.record(s, actor=actor, action="document.sign", object_type="document", object_id=doc.id,
                         origin=origin, details={"sha256": stored.sha256, "signed_content": main.sha256,
                                                 "authority_form": turn.authority_form,
                                                 "on_behalf_of": turn.decision.user_id if turn.delegation
                                                 else None, **(details or {})})
            s.flush()
        except BaseException:
            self.forget(stored)
            raise
        return DocumentView(document_dict(s, doc, hide_subject=False, detail=True))

    def _signer_appearance(self, s: Session, user: User, turn: Any, image: bytes) -> Any:
        """Title and name, with the authority form when signing for someone (KT. CHỦ TỊCH)."""
        from signing.appearance import SignerAppearance
        title = (user.position or "").upper() or None
        authority = on_behalf_of = None
        if turn.delegation is not None:
            authority = AuthorityForm(turn.delegation.form).prefix
            principal = s.get(User, turn.decision.user_id)
            on_behalf_of = ((principal.position or "").upper() or None) if principal else None
        return SignerAppearance(image, name=user.full_name, title=title, authority=authority,
                                on_behalf_of=on_behalf_of)

    # ------------------------------------------------------------ number and date positions
    def set_page_positions(self, actor: Actor, doc_id: int, *, number: page_positions.Position | None,
                           date: page_positions.Position | None, place: str | None,
                           origin: RequestOrigin | None = None) -> dict[str, Any] | None:
        """The registry says where page 1 gets the number and date when the draft does not show
        ``Số:`` / ``ngày … tháng … năm``; only before the competent person signs (the signature
        creates the fields there)."""
        with self.db.write() as s:
            doc = load_readable(s, actor, doc_id, for_update=True)
            policies.may_place_positions(actor, doc).enforce()
            main = main_file(s, doc)
            doc.page_positions = page_positions.positions_dict(number, date, place, main.page_count)
            audit.record(s, actor=actor, action="document.page_positions", object_type="document",
                         object_id=doc.id, origin=origin, details={"positions": doc.page_positions})
            return doc.page_positions

    # ------------------------------------------------------------ issue
    def issue(self, actor: Actor, doc_id: int, *, recipients: list[RecipientInput],
              origin: RequestOrigin | None = None) -> DocumentView:
        """Number, date, organisation signature, recipients and delivery, in one transaction."""
        if not recipients:
            raise InvalidInput(Msg("outgoing.name_at_least_one_recipient",
                                   "name at least one recipient (nơi nhận)"), {"field": "recipients"})
        with self.db.write() as s:
            doc = load_readable(s, actor, doc_id, for_update=True)
            turn = chains.turn(s, doc, actor, StepKind.ISSUE)
            policies.may_issue(actor, doc, issue_turn=turn is not None).enforce()
            assert turn is not None
            agency = must_get(s, Organisation, doc.agency_id)
            rows = self._recipient_rows(s, doc, recipients)
            signed = _latest(s, doc, "signed")
            if signed is None:
                raise InvalidState(Msg("outgoing.document_has_not_been_signed_competent",
                                       "the document has not been signed by the competent person"))
            year = to_vn(utcnow()).year
            series = outgoing_series(doc.secrecy, is_copy=False)
            number = registers.allocate(s, SeriesKey(doc.agency_id, "outgoing", series, year), doc.id,
                                        actor.user_id)
            notation = notation_for(type_code=doc.doc_type.code, agency_abbr=agency.abbreviation,
                                    unit_abbr=_unit_abbr(s, doc))
            today = vn_today()
            label = number_notation(number, notation)
            signed_pdf = self.files.read_bytes(signed.object_key)
            page_positions.require_issue_fields(signed_pdf)
            org = self.signatures.agency_signer(s, agency)
            stored: list[StoredFile] = []
            try:
                main_pdf = self._seal(signed_pdf, org, label, today, place=page_positions.place_of(doc))
                stored.append(self.put_pdf(main_pdf, _renamed(signed.filename, label), doc))
                s.add(_file_row(doc, "issued", stored[-1], signed, actor))
                for att in _files(s, doc, "attachment"):
                    att_pdf = self._sign_attachment(self.files.read_bytes(att.object_key), org, label)
                    if att_pdf is not None:
                        stored.append(self.put_pdf(att_pdf, att.filename, doc))
                        s.add(_file_row(doc, "issued_att", stored[-1], att, actor))
                doc.code_number, doc.code_notation, doc.issued_date = format_number(number), notation, today
                doc.register_series, doc.register_year = series, year
                doc.issuing_organ_id = agency.organ_id
                doc.status = Status.ISSUED.value
                chains.record(s, turn, actor, "issued")
                chains.advance(s, doc, turn.instance, turn.step)
                for row in rows:
                    if row.agency_id or row.unit_id:  # delivered on this system
                        row.sent_at = utcnow()
                        row.status_code = SENT
                    s.add(row)
                refresh_readers(s, doc)
                audit.record(s, actor=actor, action="document.issue", object_type="document", object_id=doc.id,
                             origin=origin, details={"number": label, "year": year, "series": series,
                                                     "sha256": stored[0].sha256,
                                                     "recipients": [r.name for r in rows]})
                s.flush()
                # --- exchange: outside recipients go through the exchange queue (issue 17)
                if self.exchange is not None:
                    self.exchange.queue_issue(s, doc, rows)
                # ---
                internal = [r.agency_id for r in rows if r.agency_id]
                if internal and self.enqueue is not None:
                    after_commit(s, lambda: self._kick_delivery(doc_id))
            except BaseException:
                for f in stored:
                    self.forget(f)
                raise
            view = DocumentView(document_dict(s, doc, hide_subject=False, detail=True))
            view.warnings.extend(_uncleared_recipients(s, doc, rows))
            return view

    def _seal(self, pdf: bytes, org: Any, label: str, day: Any, *, place: str | None) -> bytes:
        """The seal in the field the signer's certification prepared, and in the same revision the
        number and date printed on page 1 (form filling, which the certification allows)."""
        from signing.appearance import SealAppearance
        from signing.pades import FillIssueFields
        return self.signatures.sign(pdf, org, SealAppearance(org.image),
                                    reason=f"Ban hành văn bản số {label} ngày {day:%d/%m/%Y}",
                                    fill=FillIssueFields(label, day, place))

    def _sign_attachment(self, data: bytes, org: Any, label: str) -> bytes | None:
        """Attachments in separate PDF files carry the organisation's text signature; other
        formats (spreadsheets...) are sent as they are."""
        from signing.appearance import TextAppearance
        if not data.startswith(b"%PDF"):
            return None
        return self.signatures.sign(data, org, TextAppearance.attachment(label), reason=f"Phụ lục văn bản {label}")

    def _recipient_rows(self, s: Session, doc: Document, recipients: list[RecipientInput]) -> list[Recipient]:
        rows: list[Recipient] = []
        seen: set[tuple[str, Any]] = set()
        key: tuple[str, Any]
        for i, r in enumerate(recipients):
            given = [x for x in (r.agency_id, r.unit_id, r.name) if x]
            if len(given) != 1:
                raise InvalidInput("each recipient is one of agency_id, unit_id or name", {"field": f"recipients[{i}]"})
            if r.agency_id:
                org = s.get(Organisation, r.agency_id)
                if org is None or org.kind == "unit" or org.id == doc.agency_id:
                    raise InvalidInput(f"recipient agency {r.agency_id} is not another agency on this system",
                                       {"field": f"recipients[{i}].agency_id"})
                if doc.secrecy and self.secrecy_policy == "connected":
                    raise InvalidInput(Msg("outgoing.secret_documents_not_sent_electronically_connected",
                                           "secret documents are not sent electronically on a connected deployment"),
                                       {"field": f"recipients[{i}]"})
                row, key = Recipient(document_id=doc.id, agency_id=org.id, name=org.name, organ_id=org.organ_id), \
                    ("agency", org.id)
            elif r.unit_id:
                unit = s.get(Organisation, r.unit_id)
                if unit is None or unit.kind != "unit" or unit.parent_id != doc.agency_id:
                    raise InvalidInput(f"unit {r.unit_id} is not a unit of this agency",
                                       {"field": f"recipients[{i}].unit_id"})
                row, key = Recipient(document_id=doc.id, unit_id=unit.id, name=unit.name), ("unit", unit.id)
            else:
                name = (r.name or "").strip()
                if len(name) > 200:
                    raise InvalidInput("a recipient's name has at most 200 characters", {"field": f"recipients[{i}]"})
                row, key = Recipient(document_id=doc.id, name=name, organ_id=r.organ_id), ("name", name.lower())
            if key in seen:
                raise InvalidInput(f"recipient {row.name!r} is listed twice", {"field": f"recipients[{i}]"})
            seen.add(key)
            rows.append(row)
        return rows

    # ------------------------------------------------------------ delivery (task)
    def _kick_delivery(self, doc_id: int) -> None:
        """After the issue committed: deliver now (embedded) or through a worker. A failure here
        never undoes the issue; the periodic ``deliver_pending`` run catches up."""
        try:
            self.enqueue("docsvc.deliver_document", doc_id)  # type: ignore[misc]
        except Exception:
            log.warning("delivery of document %s postponed", doc_id, exc_info=True)

    def deliver_pending(self) -> int:
        """Deliver every issued document whose internal recipients still lack their copy."""
        with self.db.read() as s:
            ids = sorted(set(s.execute(select(Recipient.document_id)
                                       .join(Document, Document.id == Recipient.document_id)
                                       .where(Recipient.agency_id.is_not(None),
                                              Recipient.incoming_document_id.is_(None),
                                              Document.status == Status.ISSUED.value)).scalars()))
        return sum(self.deliver(doc_id) for doc_id in ids)

    def deliver(self, doc_id: int) -> int:
        """Create the incoming copy at each internal recipient agency (idempotent: a recipient
        that already has its copy is skipped). Signatures are validated once, on the issued bytes."""
        with self.db.read() as s:
            doc = s.get(Document, doc_id)
            if doc is None or doc.status != Status.ISSUED.value:
                return 0
            issued = _latest(s, doc, "issued")
            pending = [r.id for r in s.execute(select(Recipient).where(
                Recipient.document_id == doc_id, Recipient.agency_id.is_not(None),
                Recipient.incoming_document_id.is_(None))).scalars()]
            key = issued.object_key if issued else None
        if not pending or key is None:
            return 0
        report = self.signatures.validate(self.files.read_bytes(key))
        delivered = 0
        for recipient_id in pending:
            with self.db.write() as s:
                r = s.get(Recipient, recipient_id, with_for_update=True)
                if r is None or r.incoming_document_id is not None or r.agency_id is None:  # delivered meanwhile
                    continue
                source = must_get(s, Document, doc_id)
                # an agency that ceased (reorganisation) has its mail routed to its successor, with a note
                redirect = redirect_of(s, r.agency_id)
                target = redirect.successor_id if redirect else r.agency_id
                copy = _incoming_copy(s, source, target)
                s.add(copy)
                s.flush()
                for f in _files(s, source, "issued") + _files(s, source, "issued_att"):
                    role = "main" if f.role == "issued" else "attachment"
                    s.add(DocumentFile(document_id=copy.id, version=1, role=role, object_key=f.object_key,
                                       sha256=f.sha256, size=f.size, filename=f.filename, content_type=f.content_type,
                                       page_count=f.page_count, encrypted=f.encrypted,
                                       active_content=f.active_content, validation=report if role == "main" else None))
                r.incoming_document_id, r.status_code = copy.id, ARRIVED
                refresh_readers(s, copy)
                told = notify_readers(s, copy, _clerks(s, target), "incoming.arrived",
                                      f"Văn bản đến từ {source.issuing_body}: {SUBJECT}")
                sender = redirect_of(s, source.agency_id)
                sender_clerks = _clerks(s, sender.successor_id if sender else source.agency_id)
                if redirect is not None:
                    copy.description = redirect.note
                    r.note = redirect.note
                    notify_readers(s, source, sender_clerks, "outgoing.redirected",
                                   f"{r.name}: {redirect.note} — {SUBJECT}")
                if not told.told:  # nobody at the recipient may read it: the sender is told at once
                    r.note = NO_CLEARED_REGISTRY
                    notify_readers(s, source, sender_clerks, "outgoing.undelivered",
                                   f"{r.name}: không có văn thư đủ độ mật nhận văn bản — {SUBJECT}")
                audit.record(s, actor=None, action="document.deliver", object_type="document", object_id=copy.id,
                             agency_id=target, details={"from_document": source.id,
                                                        "verdict": report.get("verdict"),
                                                        **({"addressed_to": r.agency_id} if redirect else {})})
                delivered += 1
        return delivered

    # ------------------------------------------------------------ recall
    def recall(self, actor: Actor, doc_id: int, *, reason: str, origin: RequestOrigin | None = None) -> DocumentView:
        """Freeze the issued document and withdraw the copies its internal recipients received."""
        if not reason.strip():
            raise InvalidInput(Msg("outgoing.say_why_document_recalled",
                                   "say why the document is recalled"), {"field": "reason"})
        with self.db.write() as s:
            doc = load_readable(s, actor, doc_id, for_update=True)
            policies.may_recall(actor, doc).enforce()
            doc.status, doc.status_reason = Status.RECALLED.value, f"Thu hồi: {reason.strip()}"
            for r in s.execute(select(Recipient).where(Recipient.document_id == doc.id)).scalars():
                if r.incoming_document_id is None:
                    continue
                copy = must_get(s, Document, r.incoming_document_id)
                if copy.status != Status.WITHDRAWN.value:
                    check_transition(Direction.INCOMING, Status(copy.status), Status.WITHDRAWN)
                    copy.status, copy.status_reason = Status.WITHDRAWN.value, doc.status_reason
                    refresh_readers(s, copy)
                r.status_code = RECALL_REQUESTED
                notify_readers(s, copy, _clerks(s, copy.agency_id), "incoming.recalled",
                               f"Văn bản bị thu hồi: {SUBJECT} — xác nhận đã hủy bản nhận")
            # --- exchange: a revoke package to each outside recipient (issue 17)
            if self.exchange is not None:
                self.exchange.queue_recall(s, doc, reason.strip())
            # ---
            refresh_readers(s, doc)
            audit.record(s, actor=actor, action="document.recall", object_type="document", object_id=doc.id,
                         origin=origin, details={"reason": reason.strip()})
            return DocumentView(document_dict(s, doc, hide_subject=False, detail=True))

    def confirm_recall(self, actor: Actor, doc_id: int, origin: RequestOrigin | None = None) -> DocumentView:
        """The recipient registry confirms it removed the recalled copy from use."""
        with self.db.write() as s:
            copy = load_readable(s, actor, doc_id, for_update=True)
            r = s.execute(select(Recipient).where(Recipient.incoming_document_id == copy.id)).scalar_one_or_none()
            policies.may_confirm_recall(actor, copy, awaiting_confirmation=awaiting_confirmation(r)).enforce()
            assert r is not None
            r.status_code, r.note = RECALL_CONFIRMED, f"confirmed by {actor.username}"
            audit.record(s, actor=actor, action="document.recall_confirm", object_type="document",
                         object_id=copy.id, origin=origin, details={"source": r.document_id})
            return DocumentView(document_dict(s, copy, hide_subject=False, detail=True))

    def recipients(self, actor: Actor, doc_id: int) -> list[dict[str, Any]]:
        with self.db.read() as s:
            doc = load_readable(s, actor, doc_id)
            # Times in ISO 8601 +07:00 like every other time of the API; the id of the incoming copy a
            # delivery made is shown to both sides (reading that copy still needs access to it).
            states = self.exchange.recipient_states(s, doc.id) if self.exchange is not None else {}
            return [{"id": r.id, "name": r.name, "agency_id": r.agency_id, "unit_id": r.unit_id,
                     "organ_id": r.organ_id, "status_code": r.status_code, "sent_at": to_vn_iso(r.sent_at),
                     "delivered": r.incoming_document_id is not None,
                     "incoming_document_id": r.incoming_document_id, "note": r.note, "exchange": states.get(r.id)}
                    for r in s.execute(select(Recipient).where(Recipient.document_id == doc.id)
                                       .order_by(Recipient.id)).scalars()]

    # ------------------------------------------------------------ electronic copies
    def copy(self, actor: Actor, doc_id: int, *, form: str = "SY", origin: RequestOrigin | None = None
             ) -> DocumentView:
        """An electronic copy (sao y / sao lục / trích sao) with its own number in the copy series
        and the organisation's text signature at the top right of page 1."""
        if form not in COPY_FORMS:
            raise InvalidInput(f"form is one of {', '.join(COPY_FORMS)}", {"field": "form"})
        with self.db.write() as s:
            source = load_readable(s, actor, doc_id)
            policies.may_copy(actor, source).enforce()
            original = _latest(s, source, "issued") or main_file(s, source)
            agency = must_get(s, Organisation, actor.agency_id)
            copy = Document(agency_id=agency.id, direction=Direction.OUTGOING.value, type_id=source.type_id,
                            status=Status.ISSUED.value, subject=source.subject, issuing_body=agency.name,
                            issuing_organ_id=agency.organ_id, urgency=source.urgency, secrecy=source.secrecy,
                            classified_on=source.classified_on, created_by=actor.user_id, current_version=1,
                            source_document_id=source.id, language=source.language,
                            description=f"{COPY_FORMS[form].capitalize()} từ văn bản "
                                        f"{number_notation(source.code_number, source.code_notation)}")
            s.add(copy)
            s.flush()
            year = to_vn(utcnow()).year
            number = registers.allocate(s, SeriesKey(agency.id, "outgoing", "copy", year), copy.id, actor.user_id)
            copy.code_number, copy.code_notation = format_number(number), f"{form}-{agency.abbreviation}"
            copy.issued_date, copy.register_series, copy.register_year = vn_today(), "copy", year
            org = self.signatures.agency_signer(s, agency)
            from signing.appearance import TextAppearance
            pdf = self.signatures.sign(self.files.read_bytes(original.object_key), org,
                                       TextAppearance.copy(COPY_FORMS[form], agency.name,
                                                           number_notation(number, copy.code_notation)),
                                       reason=f"{COPY_FORMS[form]} số {number_notation(number, copy.code_notation)}")
            stored = self.put_pdf(pdf, _renamed(original.filename, form), copy)
            try:
                s.add(_file_row(copy, "copy", stored, original, actor))
                refresh_readers(s, copy)
                audit.record(s, actor=actor, action="document.copy", object_type="document", object_id=copy.id,
                             origin=origin, details={"source": source.id, "form": form,
                                                     "number": number_notation(number, copy.code_notation)})
                s.flush()
            except BaseException:
                self.forget(stored)
                raise
            return DocumentView(document_dict(s, copy, hide_subject=False, detail=True))

    # ------------------------------------------------------------ long-term validity (task)
    def refresh_ltv(self, *, horizon_days: int = 90, batch: int = 200) -> int:
        """Extend the evidence of issued documents whose certificates or last document time-stamp
        expire within ``horizon_days``: validation data + a new document time-stamp, stored as a
        new rendition (the previous one stays). Returns how many were refreshed."""
        from datetime import timedelta

        from signing.errors import SigningError
        from signing.ltv import add_ltv, needs_refresh
        with self.db.read() as s:
            rows = s.execute(select(DocumentFile.id, DocumentFile.object_key, DocumentFile.document_id,
                                    DocumentFile.role).join(Document, Document.id == DocumentFile.document_id).where(
                Document.status.in_([Status.ISSUED.value, Status.RECALLED.value]),
                DocumentFile.role.in_(["issued", "copy"])).order_by(DocumentFile.id)).all()
        latest: dict[tuple[int, str], tuple[int, str]] = {}
        for file_id, key, doc_id, role in rows:  # ordered by id: the last one per document wins
            latest[(doc_id, role)] = (file_id, key)
        refreshed = 0
        for file_id, key in list(latest.values())[:batch]:
            data = self.files.read_bytes(key)
            try:
                if not needs_refresh(data, horizon=timedelta(days=horizon_days)):
                    continue
                extended = add_ltv(data, self.signatures.trust, self.signatures.settings.effective_tsa_url)
            except SigningError as exc:
                log.warning("LTV refresh of file %s failed: %s", file_id, exc)
                continue
            with self.db.write() as s:
                base = must_get(s, DocumentFile, file_id)
                doc = must_get(s, Document, base.document_id)
                if _latest(s, doc, base.role) is not base:
                    continue  # a newer rendition exists already
                stored = self.put_pdf(extended, base.filename, doc)
                s.add(DocumentFile(document_id=doc.id, version=base.version, role=base.role, object_key=stored.key,
                                   sha256=stored.sha256, size=stored.size, filename=base.filename, content_type=PDF,
                                   page_count=base.page_count, encrypted=stored.encrypted, base_file_id=base.id,
                                   active_content=base.active_content))
                audit.record(s, actor=None, action="document.ltv_refresh", object_type="document", object_id=doc.id,
                             agency_id=doc.agency_id, details={"from": base.sha256, "to": stored.sha256})
                refreshed += 1
        return refreshed

    # ------------------------------------------------------------ stored renditions
    def put_pdf(self, data: bytes, filename: str, doc: Document) -> StoredFile:
        """A PDF made from ``doc`` in the object store, encrypted when the document is secret on an
        isolated deployment (signed renditions, prepared signatures)."""
        encrypt = policies.content_rule(doc.secrecy, self.secrecy_policy).encrypted
        return self.files.put_bytes(data, filename, PDF, encrypt=encrypt)

    def forget(self, stored: StoredFile) -> None:
        """Remove an object written for a transaction that did not commit (content-addressed:
        only when no row references it; the orphan sweep is the safety net)."""
        try:
            with self.db.read() as s:
                used = s.execute(select(DocumentFile.id).where(DocumentFile.object_key == stored.key)).first()
            if used is None:
                self.files.store.delete(stored.key)
        except Exception:
            log.warning("could not remove unreferenced object %s", stored.key, exc_info=True)


def _files(s: Session, doc: Document, role: str) -> list[DocumentFile]:
    return list(s.execute(select(DocumentFile).where(DocumentFile.document_id == doc.id, DocumentFile.role == role,
                                                     DocumentFile.version == doc.current_version)
                          .order_by(DocumentFile.id)).scalars())


def _latest(s: Session, doc: Document, role: str) -> DocumentFile | None:
    files = _files(s, doc, role)
    return files[-1] if files else None


def main_file(s: Session, doc: Document) -> DocumentFile:
    """The current version's PDF the competent person signs (refused when there is none)."""
    main = _latest(s, doc, "main")
    if main is None:
        raise InvalidState("the document has no PDF to sign")
    if main.content_type != PDF:
        raise InvalidState(Msg("outgoing.only_pdf_documents_signed_digitally",
                               "only PDF documents are signed digitally"))
    return main


def _file_row(doc: Document, role: str, stored: StoredFile, base: DocumentFile, actor: Actor) -> DocumentFile:
    return DocumentFile(document_id=doc.id, version=doc.current_version, role=role, object_key=stored.key,
                        sha256=stored.sha256, size=stored.size, filename=stored.filename, content_type=PDF,
                        page_count=base.page_count, encrypted=stored.encrypted, base_file_id=base.id,
                        created_by=actor.user_id, active_content=base.active_content)


def _renamed(filename: str, suffix: str) -> str:
    stem = filename[:-4] if filename.lower().endswith(".pdf") else filename
    safe = suffix.replace("/", "-")
    return f"{stem}.{safe}.pdf"[:255]


def _unit_abbr(s: Session, doc: Document) -> str | None:
    if doc.drafting_unit_id is None:
        return None
    unit = s.get(Organisation, doc.drafting_unit_id)
    return unit.abbreviation if unit else None


def _clerks(s: Session, agency_id: int) -> list[int]:
    from docsvc.db.models import UserRole
    return list(s.execute(select(User.id).join(UserRole, UserRole.user_id == User.id).where(
        User.agency_id == agency_id, UserRole.role == Role.CLERK.value, User.is_active.is_(True))).scalars())


def _uncleared_recipients(s: Session, doc: Document, rows: list[Recipient]) -> list[dict[str, Any]]:
    """Warnings for internal recipients none of whose registry members is cleared for ``doc``: their
    copy will arrive but nobody there is told about it (the registry of an incoming document reads it
    when cleared, so clearance is the whole question)."""
    out = []
    for r in rows:
        if r.agency_id is None:
            continue
        cleared = s.execute(select(User.id).where(User.id.in_(_clerks(s, r.agency_id)),
                                                  User.clearance >= doc.secrecy)).first()
        if cleared is None:
            out.append({"code": "recipient_not_notified", "agency_id": r.agency_id,
                        "message": f"no registry member of {r.name} is cleared for this document: "
                                   "its copy arrives but nobody there is notified"})
    return out


def _incoming_copy(s: Session, source: Document, agency_id: int) -> Document:
    return Document(agency_id=agency_id, direction=Direction.INCOMING.value, type_id=source.type_id,
                    status=Status.RECEIVED.value, subject=source.subject, code_number=source.code_number,
                    code_notation=source.code_notation, issued_date=source.issued_date,
                    issuing_body=source.issuing_body, issuing_organ_id=source.issuing_organ_id,
                    signer_name=source.signer_name, signer_position=source.signer_position,
                    authority_form=source.authority_form, urgency=source.urgency, secrecy=source.secrecy,
                    classified_on=source.classified_on, due_date=source.due_date, page_amount=source.page_amount,
                    language=source.language, arrival_at=utcnow(), received_via="internal", current_version=1,
                    source_document_id=source.id,
                    dup_key=_dup_key(source))


def _dup_key(source: Document) -> str | None:
    from docsvc.domain.documents import duplicate_key
    return duplicate_key(source.code_number, source.code_notation, source.issuing_organ_id or source.issuing_body)

