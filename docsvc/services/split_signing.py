"""The competent person signs with a key the server never holds (issue 20).

Two ways, one path: the leader's USB token through ``docsvc-signer`` (mode ``token``), or a
remote-signing provider through the CSC API (mode ``remote``, :mod:`docsvc.services.remote_signing`).
Either way the server

1. checks the certificate: registered by this user (``POST /me/certificates``), chaining to a
   trusted root (internal CA or ``DOCSVC_TRUST_ROOTS``), not revoked, allowed to sign;
2. prepares the document exactly as a server-held key would sign it — appearance, certification
   (DocMDP), the number/date/seal/copy fields in the same revision — and keeps the prepared PDF
   and its state here (object + ``signing_preparations`` row: document version, content SHA-256,
   certificate, expiry, a random id), handing out only the data to be signed;
3. on finish, with the row locked: refuses a used id (replay, 409), an expired one (410), a
   document changed since (409), a certificate no longer acceptable (422/403), a signature value
   that does not verify over the prepared data with that certificate (422); then embeds it, adds
   the time-stamp and validation data, and records the signature as ``OutgoingService.sign`` does.

Nothing the client sends back is trusted but the signature value: the state never leaves the server.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import select
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import DocumentFile, SigningPreparation, User, UserCertificate
from docsvc.db.uow import Database, after_commit
from docsvc.domain import policies
from docsvc.domain.identity import Actor, RequestOrigin
from docsvc.errors import (
    Conflict,
    DomainError,
    Gone,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from docsvc.services import audit
from docsvc.services.access import load_readable
from docsvc.services.documents import DocumentView
from docsvc.services.files import FileStore
from docsvc.services.outgoing import (
    OutgoingService,
    explain_signing_failure,
    main_file,
)
from docsvc.services.signatures import SignatureService, SigningFailed

log = logging.getLogger("docsvc.split_signing")

MAX_BATCH = 100


class PreparationUsed(Conflict):
    code = "preparation_used"


class PreparationExpired(Gone):
    code = "preparation_expired"


class DocumentChanged(Conflict):
    code = "document_changed"


class CertificateNotRegistered(PermissionDenied):
    code = "certificate_not_registered"


@dataclass(frozen=True)
class Prepared:
    """What the signer's side gets: the data to sign and what to show the person signing."""

    row: SigningPreparation
    data_to_be_signed: bytes
    hash_to_sign: bytes
    document: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"prepared_id": self.row.public_id, "document_id": self.row.document_id,
                "data_to_be_signed": base64.b64encode(self.data_to_be_signed).decode(),
                "hash": base64.b64encode(self.hash_to_sign).decode(), "hash_algorithm": "sha256",
                "expires_at": self.row.expires_at, "document": self.document}


def parse_certificate(value: Any, field: str = "certificate") -> x509.Certificate:
    """A certificate given as PEM text or base64 DER."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("give the certificate (PEM, or base64 DER)", {"field": field})
    try:
        if "-----BEGIN" in value:
            return x509.load_pem_x509_certificate(value.encode())
        return x509.load_der_x509_certificate(base64.b64decode(value, validate=True))
    except (ValueError, binascii.Error):
        raise InvalidInput("not a certificate (PEM, or base64 DER expected)", {"field": field}) from None


def parse_signature(value: Any) -> bytes:
    try:
        data = base64.b64decode(value, validate=True) if isinstance(value, str) else b""
    except (ValueError, binascii.Error):
        data = b""
    if not 32 <= len(data) <= 2048:
        raise InvalidInput("signature: the signature value, base64", {"field": "signature"})
    return data


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.DER)


class SplitSigningService:
    def __init__(self, db: Database, files: FileStore, signatures: SignatureService, outgoing: OutgoingService, *,
                 prepare_minutes: int) -> None:
        self.db, self.files, self.signatures, self.outgoing = db, files, signatures, outgoing
        self.ttl = timedelta(minutes=prepare_minutes)

    # ------------------------------------------------------------ registered certificates
    def register_certificate(self, actor: Actor, certificate: Any, *, csc_credential_id: str | None = None,
                             origin: RequestOrigin | None = None) -> dict[str, Any]:
        """The caller says "this certificate is mine" (its key is on their token or with their
        remote-signing provider). Accepted only if it could sign now (trusted, not revoked)."""
        policies.may_hold_signing_key(actor).enforce()
        cert = parse_certificate(certificate)
        self.signatures.check_certificate(cert, self.signatures.signer_chain(cert, []))
        digest = hashlib.sha256(_der(cert)).hexdigest()
        with self.db.write() as s:
            row = s.execute(select(UserCertificate).where(UserCertificate.user_id == actor.user_id,
                                                          UserCertificate.sha256 == digest)).scalar_one_or_none()
            if row is None:
                row = UserCertificate(user_id=actor.user_id, sha256=digest, subject=cert.subject.rfc4514_string()[:300],
                                      issuer=cert.issuer.rfc4514_string()[:300],
                                      serial=format(cert.serial_number, "x")[:64],
                                      not_after=cert.not_valid_after_utc, der=_der(cert))
                s.add(row)
            row.removed_at = None
            row.csc_credential_id = csc_credential_id or row.csc_credential_id
            s.flush()
            audit.record(s, actor=actor, action="certificate.register", object_type="user", object_id=actor.user_id,
                         origin=origin, details={"sha256": digest, "subject": row.subject, "serial": row.serial})
            return _certificate_dict(row)

    def certificates(self, actor: Actor) -> list[dict[str, Any]]:
        with self.db.read() as s:
            return [_certificate_dict(r) for r in s.execute(select(UserCertificate).where(
                UserCertificate.user_id == actor.user_id, UserCertificate.removed_at.is_(None))
                .order_by(UserCertificate.id)).scalars()]

    def remove_certificate(self, actor: Actor, cert_id: int, origin: RequestOrigin | None = None) -> None:
        with self.db.write() as s:
            row = s.get(UserCertificate, cert_id)
            if row is None or row.user_id != actor.user_id or row.removed_at is not None:
                raise NotFound("no such certificate of yours")
            row.removed_at = utcnow()
            audit.record(s, actor=actor, action="certificate.remove", object_type="user", object_id=actor.user_id,
                         origin=origin, details={"sha256": row.sha256})

    def registered(self, s: Session, actor: Actor, cert: x509.Certificate) -> UserCertificate:
        digest = hashlib.sha256(_der(cert)).hexdigest()
        row = s.execute(select(UserCertificate).where(
            UserCertificate.user_id == actor.user_id, UserCertificate.sha256 == digest,
            UserCertificate.removed_at.is_(None))).scalar_one_or_none()
        if row is None:
            raise CertificateNotRegistered("this certificate is not registered to your account: register it first "
                                           "(POST /api/v1/me/certificates, or your profile page)")
        return row

    # ------------------------------------------------------------ prepare
    def prepare(self, actor: Actor, doc_id: int, certificate: Any, *, chain: list[Any] | None = None,
                mode: str = "token", batch_id: str | None = None, checked: bool = False) -> Prepared:
        """``checked``: the batch checked this certificate's trust and revocation a moment ago."""
        cert = parse_certificate(certificate)
        extra = self.signatures.signer_chain(cert, [parse_certificate(c, "chain") for c in (chain or [])][:5])
        if not checked:
            with self.db.read() as s:
                self.registered(s, actor, cert)
            self.signatures.check_certificate(cert, extra)  # outside the write transaction: may fetch OCSP/CRL
        with self.db.write() as s:
            reg = self.registered(s, actor, cert)
            doc, turn, main = self.outgoing.signing_turn(s, actor, doc_id)
            user = s.get_one(User, actor.user_id)
            request = self.outgoing.signature_request(s, doc, user, turn, self.signatures.signature_image(user))
            try:
                prepared = self.signatures.prepare_split(self.files.read_bytes(main.object_key), cert, extra,
                                                         request.appearance, reason=request.reason,
                                                         issue_fields=request.issue_fields)
            except SigningFailed as exc:
                raise explain_signing_failure(exc, doc.id) from None
            stored = self.outgoing.put_pdf(prepared.prepared_pdf, f"prepared-{doc.id}.pdf", doc)
            state = {**prepared.state(), "chain": [base64.b64encode(_der(c)).decode() for c in extra]}
            row = SigningPreparation(public_id=secrets.token_urlsafe(24), batch_id=batch_id, document_id=doc.id,
                                     user_id=actor.user_id, certificate_id=reg.id, mode=mode,
                                     version=doc.current_version, base_file_id=main.id, content_sha256=main.sha256,
                                     object_key=stored.key, state=state, expires_at=utcnow() + self.ttl)
            try:
                s.add(row)
                audit.record(s, actor=actor, action="document.sign_prepare", object_type="document",
                             object_id=doc.id, details={"mode": mode, "certificate": reg.sha256,
                                                        "content": main.sha256})
                s.flush()
            except BaseException:
                self.outgoing.forget(stored)
                raise
            shown = {"id": doc.id, "number": doc.code_number and f"{doc.code_number}/{doc.code_notation}",
                     "subject": doc.subject, "pages": main.page_count, "sha256": main.sha256}
            return Prepared(row, prepared.data_to_be_signed, prepared.hash_to_sign, shown)

    # ------------------------------------------------------------ finish
    def finish(self, actor: Actor, prepared_id: str, signature: bytes, *,
               origin: RequestOrigin | None = None) -> DocumentView:
        """The signature value for a prepared document: checked, embedded, time-stamped, recorded
        — or refused with nothing written."""
        from signing.split import PreparedSignature
        with self.db.read() as s:
            row = self._row(s, actor, prepared_id)
            cert = x509.load_der_x509_certificate(s.get_one(UserCertificate, row.certificate_id).der)
            chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in row.state.get("chain", [])]
        self.signatures.check_certificate(cert, chain)  # revoked since prepare? (may fetch: no lock held)
        with self.db.write() as s:
            row = self._row(s, actor, prepared_id, for_update=True)
            reg = s.get_one(UserCertificate, row.certificate_id)
            if reg.removed_at is not None:
                raise CertificateNotRegistered("the certificate was removed from your account since the document "
                                               "was prepared")
            current = load_readable(s, actor, row.document_id, for_update=True)
            main = main_file(s, current)
            if (current.current_version, main.id, main.sha256) != (row.version, row.base_file_id, row.content_sha256):
                raise DocumentChanged("the document changed after it was prepared for your signature: prepare it again")
            doc, turn, main = self.outgoing.signing_turn(s, actor, row.document_id)
            try:
                prepared = PreparedSignature.from_state(row.state, self.files.read_bytes(row.object_key))
            except Exception as exc:  # noqa: BLE001 - a missing or altered prepared object
                raise DocumentChanged(f"the prepared document is no longer usable ({type(exc).__name__}): prepare "
                                      "it again") from None
            signed = self.signatures.finish_split(prepared, signature, cert, chain)
            row.used_at = utcnow()
            user = s.get_one(User, actor.user_id)
            view = self.outgoing.record_signature(s, actor, doc, turn, main, user, signed, origin=origin,
                                                  details={"mode": row.mode, "certificate": reg.sha256,
                                                           "prepared_id": row.public_id})
            key = row.object_key
            after_commit(s, lambda: self._drop_prepared(key))
            return view

    def check_document(self, actor: Actor, prepared_id: str, doc_id: int) -> None:
        """The prepared id must be one prepared for ``doc_id`` (the URL names the document)."""
        with self.db.read() as s:
            row = s.execute(select(SigningPreparation).where(
                SigningPreparation.public_id == str(prepared_id))).scalar_one_or_none()
            if row is None or row.user_id != actor.user_id or row.document_id != doc_id:
                raise NotFound("no such prepared signature of yours for this document")

    def _row(self, s: Session, actor: Actor, prepared_id: str, *, for_update: bool = False) -> SigningPreparation:
        q = select(SigningPreparation).where(SigningPreparation.public_id == str(prepared_id))
        if for_update:
            q = q.with_for_update()
        row = s.execute(q).scalar_one_or_none()
        if row is None or row.user_id != actor.user_id:
            raise NotFound("no such prepared signature of yours")
        if row.used_at is not None:
            raise PreparationUsed("this prepared signature was already used: a signature is accepted once")
        if row.expires_at <= utcnow():
            raise PreparationExpired("the prepared signature expired: prepare the document again")
        return row

    def _drop_prepared(self, key: str) -> None:
        try:
            with self.db.read() as s:
                used = s.execute(select(DocumentFile.id).where(DocumentFile.object_key == key)).first()
            if used is None:
                self.files.store.delete(key)
        except Exception:
            log.warning("could not remove prepared object %s", key, exc_info=True)

    # ------------------------------------------------------------ batches
    def prepare_batch(self, actor: Actor, doc_ids: list[int], certificate: Any, *, chain: list[Any] | None = None,
                      mode: str = "token") -> dict[str, Any]:
        """N documents for one PIN: each prepared on its own (a refusal is that document's result)."""
        if not doc_ids or len(doc_ids) > MAX_BATCH or len(set(doc_ids)) != len(doc_ids):
            raise InvalidInput(f"document_ids: 1 to {MAX_BATCH} different documents", {"field": "document_ids"})
        cert = parse_certificate(certificate)
        with self.db.read() as s:
            self.registered(s, actor, cert)
        self.signatures.check_certificate(cert, self.signatures.signer_chain(
            cert, [parse_certificate(c, "chain") for c in (chain or [])][:5]))  # once for the batch
        batch_id = secrets.token_urlsafe(16)
        items: list[dict[str, Any]] = []
        for doc_id in doc_ids:
            try:
                items.append({"document_id": doc_id, "prepared": self.prepare(
                    actor, doc_id, certificate, chain=chain, mode=mode, batch_id=batch_id, checked=True).to_dict()})
            except DomainError as exc:
                items.append({"document_id": doc_id, "error": _error(exc)})
        return {"batch_id": batch_id, "items": items}

    def discard_batch(self, actor: Actor, batch_id: str) -> None:
        """Remove the unused preparations of a batch whose signing did not happen (the provider
        refused the PIN...): no row or prepared object is left behind."""
        with self.db.write() as s:
            rows = list(s.execute(select(SigningPreparation).where(
                SigningPreparation.batch_id == str(batch_id), SigningPreparation.user_id == actor.user_id,
                SigningPreparation.used_at.is_(None))).scalars())
            keys = [r.object_key for r in rows]
            for r in rows:
                s.delete(r)
        for key in keys:
            self._drop_prepared(key)

    def finish_batch(self, actor: Actor, batch_id: str, signatures: list[dict[str, Any]], *,
                     origin: RequestOrigin | None = None) -> dict[str, Any]:
        """Each signature finished on its own transaction: one refused leaves the others signed."""
        if not isinstance(signatures, list) or not signatures or len(signatures) > MAX_BATCH:
            raise InvalidInput(f"signatures: 1 to {MAX_BATCH} items", {"field": "signatures"})
        with self.db.read() as s:
            rows = {r.public_id: r.document_id for r in s.execute(select(SigningPreparation).where(
                SigningPreparation.batch_id == str(batch_id), SigningPreparation.user_id == actor.user_id)).scalars()}
        if not rows:
            raise NotFound("no such batch of yours")
        items: list[dict[str, Any]] = []
        for entry in signatures:
            pid = str(entry.get("prepared_id", "")) if isinstance(entry, dict) else ""
            if pid not in rows:
                items.append({"prepared_id": pid, "document_id": None, "status": "error",
                              "error": {"code": "not_found", "message": "not a prepared signature of this batch"}})
                continue
            try:
                view = self.finish(actor, pid, parse_signature(entry.get("signature")), origin=origin)
                items.append({"prepared_id": pid, "document_id": rows[pid], "status": "signed",
                              "document": view.to_dict()})
            except DomainError as exc:
                items.append({"prepared_id": pid, "document_id": rows[pid], "status": "error", "error": _error(exc)})
        return {"batch_id": batch_id, "items": items}


def _error(exc: DomainError) -> dict[str, Any]:
    return {"code": exc.code, "message": exc.message, "status": exc.status}


def _certificate_dict(row: UserCertificate) -> dict[str, Any]:
    return {"id": row.id, "sha256": row.sha256, "subject": row.subject, "issuer": row.issuer, "serial": row.serial,
            "not_after": row.not_after, "remote_signing": bool(row.csc_credential_id),
            "csc_credential_id": row.csc_credential_id, "created_at": row.created_at}
