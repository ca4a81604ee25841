"""Signing with keys the server never holds: registered certificates, prepare/finish, batches,
remote signing (issue 20). Server-held keys stay in outgoing.py (``/documents/{id}/sign``)."""

from __future__ import annotations

from typing import Any, Literal

from flask import Response
from pydantic import Field

from docsvc.domain.identity import Actor
from docsvc.web.api import api
from docsvc.web.api.common import StrictModel
from docsvc.web.api.documents import DocumentOut
from docsvc.web.api.spec import endpoint
from docsvc.web.context import container, origin

TAG = "signing"


class CertificateIn(StrictModel):
    certificate: str = Field(min_length=100, max_length=20000, description="PEM, or base64 DER")
    csc_credential_id: str | None = Field(None, min_length=1, max_length=200,
                                          description="remote signing: your credential at the provider")


class PrepareIn(StrictModel):
    certificate: str = Field(min_length=100, max_length=20000,
                             description="the signer's certificate, PEM or base64 DER")
    chain: list[str] = Field([], max_length=5, description="intermediate CA certificates to embed")


class FinishIn(StrictModel):
    prepared_id: str = Field(min_length=8, max_length=64)
    signature: str = Field(min_length=40, max_length=4000, description="signature value over data_to_be_signed, base64")


class BatchIn(StrictModel):
    document_ids: list[int] = Field(min_length=1, max_length=100)
    certificate: str = Field(min_length=100, max_length=20000)
    chain: list[str] = Field([], max_length=5)
    mode: Literal["token"] = "token"


class SignatureIn(StrictModel):
    prepared_id: str = Field(min_length=8, max_length=64)
    signature: str = Field(min_length=40, max_length=4000)


class BatchFinishIn(StrictModel):
    signatures: list[SignatureIn] = Field(min_length=1, max_length=100)


class RemoteCredentialIn(StrictModel):
    credential_id: str | None = Field(None, min_length=1, max_length=200,
                                      description="your credential at the provider (default: the only one listed)")


class RemoteSignIn(StrictModel):
    document_ids: list[int] = Field(min_length=1, max_length=100)
    pin: str | None = Field(None, min_length=1, max_length=200, description="the PIN your provider asks")
    otp: str | None = Field(None, min_length=1, max_length=200, description="the one-time password, if asked")


@endpoint(api, "/me/certificates", tag=TAG, summary="Certificates registered as yours (keys on your token or "
                                                     "with your remote-signing provider)")
def my_certificates(actor: Actor) -> dict:
    return {"items": container().split_signing.certificates(actor)}


@endpoint(api, "/me/certificates", method="POST", tag=TAG, body=CertificateIn, status=201,
          summary="Register a certificate as yours (it must chain to a trusted root and not be revoked)")
def register_certificate(actor: Actor, body: CertificateIn) -> dict:
    return container().split_signing.register_certificate(actor, body.certificate,
                                                          csc_credential_id=body.csc_credential_id, origin=origin())


@endpoint(api, "/me/certificates/<int:cert_id>", method="DELETE", tag=TAG, status=204,
          summary="Remove a registered certificate (pending preparations with it are refused)")
def remove_certificate(actor: Actor, cert_id: int) -> Response:
    container().split_signing.remove_certificate(actor, cert_id, origin())
    return Response(status=204)


@endpoint(api, "/documents/<int:doc_id>/sign/prepare", method="POST", tag=TAG, body=PrepareIn, status=201,
          summary="Prepare the document for a signature made with your own key: returns the data to be signed")
def prepare(actor: Actor, doc_id: int, body: PrepareIn) -> dict:
    return container().split_signing.prepare(actor, doc_id, body.certificate, chain=body.chain).to_dict()


@endpoint(api, "/documents/<int:doc_id>/sign/finish", method="POST", tag=TAG, body=FinishIn, response=DocumentOut,
          summary="Finish a prepared signature with the signature value made by your key")
def finish(actor: Actor, doc_id: int, body: FinishIn) -> dict:
    from docsvc.services.split_signing import parse_signature
    svc = container().split_signing
    svc.check_document(actor, body.prepared_id, doc_id)
    return svc.finish(actor, body.prepared_id, parse_signature(body.signature), origin=origin()).to_dict()


@endpoint(api, "/signing/batches", method="POST", tag=TAG, body=BatchIn, status=201,
          summary="Prepare N documents for one PIN: the data to be signed of each, or why it cannot be signed")
def prepare_batch(actor: Actor, body: BatchIn) -> dict:
    return container().split_signing.prepare_batch(actor, body.document_ids, body.certificate, chain=body.chain)


@endpoint(api, "/signing/batches/<batch_id>/finish", method="POST", tag=TAG, body=BatchFinishIn,
          summary="Finish a batch: one result per document (a refused one leaves the others signed)")
def finish_batch(actor: Actor, batch_id: str, body: BatchFinishIn) -> dict:
    return container().split_signing.finish_batch(actor, batch_id, [s.model_dump() for s in body.signatures],
                                                  origin=origin())


@endpoint(api, "/me/remote-credential", method="POST", tag=TAG, body=RemoteCredentialIn, status=201,
          summary="Link your remote-signing (CSC) credential: its certificate is registered as yours")
def link_remote_credential(actor: Actor, body: RemoteCredentialIn) -> dict:
    return container().remote_signing.link(actor, body.credential_id, origin())


@endpoint(api, "/signing/remote", method="POST", tag=TAG, body=RemoteSignIn,
          summary="Sign documents with your remote-signing credential: "
                  "one PIN/OTP for the batch, a result per document")
def sign_remote(actor: Actor, body: RemoteSignIn) -> dict[str, Any]:
    return container().remote_signing.sign(actor, body.document_ids, pin=body.pin, otp=body.otp, origin=origin())
