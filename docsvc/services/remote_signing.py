"""Remote signing through a Cloud Signature Consortium (CSC v2) provider (issue 20).

The provider keeps the leader's key; the deployment is a client of it (``DOCSVC_CSC_URL``,
``DOCSVC_CSC_CLIENT_ID``/``_SECRET``) and each user links their credential (its certificate is
registered to the account like a token's). A batch is the split-signing path of
:mod:`docsvc.services.split_signing` with the provider as the signer's side: the documents are
prepared here, their hashes authorised once by the user's PIN/OTP (``credentials/authorize``,
SAD bound to those hashes), signed by the provider (``signatures/signHash``) and finished here
with every check of a token signature.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import select

from docsvc.db.models import UserCertificate
from docsvc.domain.identity import Actor, RequestOrigin
from docsvc.errors import Conflict, InvalidInput, InvalidState, PermissionDenied
from docsvc.services.signatures import as_domain_error
from docsvc.services.split_signing import SplitSigningService
from docsvc.settings import Settings


class RemoteSigningService:
    def __init__(self, split: SplitSigningService, settings: Settings) -> None:
        self.split, self.settings = split, settings

    def _client(self) -> Any:
        from signing.csc import CscClient
        st = self.settings
        if not st.csc_url:
            raise InvalidState("remote signing is not configured on this deployment (DOCSVC_CSC_URL)",
                               {"reason": "remote_signing_off"})
        return CscClient(st.csc_url, st.csc_client_id, st.csc_client_secret)

    def _guard(self, operation: Any) -> Any:
        from signing.errors import SigningError
        try:
            return operation()
        except SigningError as exc:
            raise as_domain_error(exc) from None

    def link(self, actor: Actor, credential_id: str | None, origin: RequestOrigin | None = None) -> dict[str, Any]:
        """Register the certificate of the caller's credential at the provider (the only one they
        have there when ``credential_id`` is not given; the provider's user id is the username)."""
        client = self._client()
        if not credential_id:
            ids = self._guard(lambda: client.list_credentials(actor.username))
            if len(ids) != 1:
                raise InvalidInput(f"the provider lists {len(ids)} credentials for {actor.username}: name one",
                                   {"field": "credential_id"})
            credential_id = ids[0]
        cred = self._guard(lambda: client.credential_info(credential_id))
        return self.split.register_certificate(actor, _b64(cred.certificate), csc_credential_id=credential_id,
                                               origin=origin)

    def sign(self, actor: Actor, doc_ids: list[int], *, pin: str | None, otp: str | None = None,
             origin: RequestOrigin | None = None) -> dict[str, Any]:
        """Sign ``doc_ids`` with the caller's remote credential; one authorisation for the batch,
        one result per document."""
        with self.split.db.read() as s:
            reg = s.execute(select(UserCertificate).where(
                UserCertificate.user_id == actor.user_id, UserCertificate.removed_at.is_(None),
                UserCertificate.csc_credential_id.is_not(None)).order_by(UserCertificate.id.desc())).scalars().first()
            if reg is None:
                raise PermissionDenied("link your remote-signing credential first (POST /api/v1/me/remote-credential)",
                                       {"reason": "no_remote_credential"})
            credential_id, registered = reg.csc_credential_id, reg.sha256
        client = self._client()
        cred = self._guard(lambda: client.credential_info(credential_id))
        if hashlib.sha256(cred.certificate.public_bytes(Encoding.DER)).hexdigest() != registered:
            raise Conflict("the provider's certificate for your credential is not the one registered to your account: "
                           "link the credential again", {"reason": "remote_certificate_changed"})
        batch = self.split.prepare_batch(actor, doc_ids, _b64(cred.certificate),
                                         chain=[_b64(c) for c in cred.chain], mode="remote")
        ready = [item["prepared"] for item in batch["items"] if "prepared" in item]
        failed = [{"document_id": i["document_id"], "status": "error", "error": i["error"]}
                  for i in batch["items"] if "error" in i]
        if not ready:
            return {"batch_id": batch["batch_id"], "items": failed}
        hashes = [base64.b64decode(p["hash"]) for p in ready]
        try:
            sad = self._guard(lambda: client.authorize(cred, hashes, pin=pin, otp=otp,
                                                       description=f"docsvc: ký {len(hashes)} văn bản"))
            values = self._guard(lambda: client.sign_hashes(cred, sad, hashes))
        except BaseException:
            self.split.discard_batch(actor, batch["batch_id"])
            raise
        result = self.split.finish_batch(actor, batch["batch_id"], [
            {"prepared_id": p["prepared_id"], "signature": base64.b64encode(v).decode()}
            for p, v in zip(ready, values, strict=True)], origin=origin)
        return {"batch_id": batch["batch_id"], "items": [*result["items"], *failed]}


def _b64(cert: Any) -> str:
    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode()
