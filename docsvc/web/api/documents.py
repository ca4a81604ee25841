"""Documents: receive/draft (multipart), list, read, download, versions, history, grants."""

from __future__ import annotations

from datetime import date
from typing import BinaryIO, Literal, cast

from flask import Response, request
from pydantic import BaseModel, Field, field_validator

from docsvc.domain.documents import split_number_notation
from docsvc.domain.identity import Actor
from docsvc.errors import InvalidInput
from docsvc.services.documents import HISTORY_PAGE, DocumentInput, Upload
from docsvc.web.api import api
from docsvc.web.api.common import PageQuery, StrictModel, page_of
from docsvc.web.api.spec import endpoint
from docsvc.web.context import container, origin
from docsvc.web.downloads import content_response

UrgencyName = Literal["normal", "khan", "thuong_khan", "hoa_toc"]
SecrecyName = Literal["none", "mat", "toi_mat", "tuyet_mat"]


class DocumentForm(StrictModel):
    direction: Literal["incoming", "outgoing", "internal"]
    type: str = Field(min_length=1, max_length=100, description="type code (QĐ, TB, ...) or cong_van")
    subject: str = Field(min_length=1, max_length=500, description="trích yếu")
    number_notation: str | None = Field(None, max_length=42, description="e.g. 15/QĐ-UBND (incoming)")
    issuing_body: str = Field("", max_length=200, description="OrganName of the issuing body")
    issuing_organ_id: str | None = Field(None, max_length=13)
    issued_date: date | None = None
    urgency: UrgencyName = "normal"
    secrecy: SecrecyName = "none"
    due_date: date | None = None
    signer_name: str | None = Field(None, max_length=200)
    signer_position: str | None = Field(None, max_length=200)
    description: str = Field("", max_length=2000)
    page_amount: int | None = Field(None, ge=1, le=100000)
    received_via: Literal["electronic", "paper"] | None = None
    drafting_unit_id: int | None = Field(None, ge=1)
    language: str = Field("vi", max_length=10)

    @field_validator("issuing_organ_id", "number_notation", "signer_name", "signer_position", mode="before")
    @classmethod
    def _empty_is_none(cls, v: object) -> object:
        return None if v == "" else v


class DocumentListQuery(PageQuery):
    direction: Literal["incoming", "outgoing", "internal"] | None = None
    status: list[str] | None = None
    type: list[str] | None = Field(None, description="type codes, or cong_van")
    year: int | None = Field(None, ge=1900, le=2200)
    urgency: UrgencyName | None = Field(None, description="at least this urgent")
    q: str | None = Field(None, max_length=200, description="text in subject, notation or issuing body")
    date_from: date | None = Field(None, alias="from")
    date_to: date | None = Field(None, alias="to")


class ContentQuery(StrictModel):
    file_id: int | None = Field(None, ge=1)
    version: int | None = Field(None, ge=1)


class GrantIn(StrictModel):
    user_id: int | None = Field(None, ge=1)
    unit_id: int | None = Field(None, ge=1)
    reason: str = Field(min_length=1, max_length=1000)


class DocumentOut(BaseModel):
    id: int
    direction: str
    status: str
    subject: str
    number_notation: str | None
    secrecy: str
    urgency: str

    model_config = {"extra": "allow"}


_URGENCY_LEVEL = {"normal": 0, "khan": 1, "thuong_khan": 2, "hoa_toc": 3}


def document_input(form: DocumentForm) -> DocumentInput:
    """The service's input from the validated form (the number/notation split as the decree writes it)."""
    code_number = code_notation = None
    if form.number_notation:
        code_number, code_notation = split_number_notation(form.number_notation)
    return DocumentInput(**form.model_dump(exclude={"number_notation"}), code_number=code_number,
                         code_notation=code_notation)


def _uploads(name: str) -> list[Upload]:
    # werkzeug types the stream IO[bytes]; it is the binary file object Upload takes
    return [Upload(f.filename or name, cast(BinaryIO, f.stream))
            for f in request.files.getlist(name) if f and f.filename]


@endpoint(api, "/documents", method="POST", summary="Receive an incoming document or create a draft",
          tag="documents", form=DocumentForm, status=201, response=DocumentOut,
          files={"file": "the document (PDF, or a PNG/JPEG/TIFF scan)",
                 "attachments": "(optional) attached files, repeatable"},
          errors={413: "File too large", 415: "Not a PDF or scan"}, idempotent=True)
def create_document(actor: Actor, form: DocumentForm) -> dict:
    """Validates every file before anything is stored. For incoming electronic documents the
    signatures are validated on receipt and the report kept with the file."""
    mains = _uploads("file")
    if len(mains) > 1:
        raise InvalidInput("send one main file; put the rest in 'attachments'", {"field": "file"})
    view = container().documents.create(actor, document_input(form), mains[0] if mains else None,
                                        _uploads("attachments"), origin())
    return view.to_dict()


@endpoint(api, "/documents", summary="Documents you may read", tag="documents", query=DocumentListQuery)
def list_documents(actor: Actor, query: DocumentListQuery) -> dict:
    """Urgent documents first, then the newest. Only documents the caller may read are listed or counted."""
    items, total = container().documents.list(
        actor, direction=query.direction, status=query.status, type_codes=query.type, year=query.year,
        urgency=_URGENCY_LEVEL[query.urgency] if query.urgency else None, q=query.q,
        date_from=query.date_from, date_to=query.date_to, offset=query.offset, limit=query.per_page)
    return page_of(items, query, total)


@endpoint(api, "/documents/<int:doc_id>", summary="One document (audited)", tag="documents",
          response=DocumentOut, errors={404: "No such document, or not readable by you"})
def get_document(actor: Actor, doc_id: int) -> dict:
    return container().documents.get(actor, doc_id, origin()).to_dict()


@endpoint(api, "/documents/<int:doc_id>/content", summary="Download the document's file (audited)",
          tag="documents", query=ContentQuery, produces="application/pdf",
          errors={404: "No such document or file"})
def document_content(actor: Actor, doc_id: int, query: ContentQuery) -> Response:
    """Default: the best rendition of the current version (issued > signed > uploaded). Secret
    content is watermarked with the reader's name and the time."""
    return content_response(actor, doc_id, file_id=query.file_id, version=query.version, origin=origin())


@endpoint(api, "/documents/<int:doc_id>/versions", summary="Files and versions of a document",
          tag="documents")
def document_versions(actor: Actor, doc_id: int) -> dict:
    return {"items": container().documents.versions(actor, doc_id)}


@endpoint(api, "/documents/<int:doc_id>/versions", method="POST",
          summary="Upload a new version (restarts a running approval chain)", tag="documents", status=201,
          files={"file": "the new version (PDF or scan)"}, response=DocumentOut, idempotent=True)
def add_version(actor: Actor, doc_id: int) -> dict:
    uploads = _uploads("file")
    if len(uploads) != 1:
        raise InvalidInput("send exactly one file in 'file'", {"field": "file"})
    return container().documents.add_version(actor, doc_id, uploads[0], origin()).to_dict()


class HistoryQuery(StrictModel):
    accesses: bool = Field(True, description="include reads, downloads, links and verifications")
    before_seq: int | None = Field(None, ge=1, description="only events before this one (the previous page's "
                                                           "next_before_seq)")
    limit: int = Field(HISTORY_PAGE, ge=1, le=HISTORY_PAGE)


@endpoint(api, "/documents/<int:doc_id>/history", summary="The document's audit events, newest page first",
          tag="documents", query=HistoryQuery)
def document_history(actor: Actor, doc_id: int, query: HistoryQuery) -> dict:
    page = container().documents.history(actor, doc_id, accesses=query.accesses, before_seq=query.before_seq,
                                         limit=query.limit)
    return {"items": page.items, "next_before_seq": page.older}


@endpoint(api, "/documents/<int:doc_id>/grants", method="POST",
          summary="Grant read access to a user or unit (need to know)", tag="documents", body=GrantIn,
          status=201, response=DocumentOut)
def grant_access(actor: Actor, doc_id: int, body: GrantIn) -> dict:
    return container().documents.grant(actor, doc_id, user_id=body.user_id, unit_id=body.unit_id,
                                       reason=body.reason, origin=origin()).to_dict()


class LinkQuery(ContentQuery):
    seconds: int = Field(300, ge=10, le=3600, description="how long the link works")


@endpoint(api, "/documents/<int:doc_id>/link", summary="A time-limited download link (audited; not for secret content)",
          tag="documents", query=LinkQuery, errors={404: "No such document or file", 409: "Secret content"})
def document_link(actor: Actor, doc_id: int, query: LinkQuery) -> dict:
    return container().documents.download_link(actor, doc_id, file_id=query.file_id, version=query.version,
                                               lifetime_seconds=query.seconds, origin=origin())


class ObjectLinkQuery(StrictModel):
    expires: str = Field(max_length=20)
    signature: str = Field(max_length=200)
    filename: str | None = Field(None, max_length=255)


@endpoint(api, "/objects/<path:key>", auth=False, tag="documents", query=ObjectLinkQuery,
          produces="application/octet-stream", summary="Serve a signed download link of the local object store",
          errors={403: "Forged, altered or expired link"})
def object_link(key: str, query: ObjectLinkQuery) -> Response:
    """The link itself is the authorisation (made by /documents/{id}/link, which checked access and
    audited it); the object's digest is verified while it streams."""
    from storage.links import content_disposition

    info, chunks = container().files.open_link(key, expires=query.expires, signature=query.signature,
                                               filename=query.filename)
    response = Response(chunks, mimetype=info.content_type or "application/octet-stream", direct_passthrough=True)
    response.headers["Content-Disposition"] = content_disposition(query.filename or key.rsplit("/", 1)[-1])
    response.headers["Cache-Control"] = "private, no-store"
    return response
