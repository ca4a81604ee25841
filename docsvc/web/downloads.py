"""File responses shared by the JSON API and the pages: document content (secret content comes
watermarked from the service), the printable registers and dossier exports."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from flask import Response

from docsvc.domain.identity import Actor, RequestOrigin
from docsvc.web.context import container


def content_response(actor: Actor, doc_id: int, *, file_id: int | None, version: int | None,
                     origin: RequestOrigin) -> Response:
    """The document's file inline (audited by the service), never cached by the browser; a file
    with active content (docsvc.services.active_content) only as an attachment, sandboxed."""
    facts, chunks = container().documents.open_content(actor, doc_id, file_id=file_id, version=version,
                                                       origin=origin)
    response = Response(chunks, mimetype=facts["content_type"], direct_passthrough=True)
    if facts.get("active_content"):  # scripts, launch actions, embedded programs: a download, never opened inline
        from storage.links import content_disposition
        response.headers["Content-Disposition"] = content_disposition(facts["filename"])
        response.headers["Content-Security-Policy"] = "sandbox"
    else:
        response.headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(facts['filename'])}"
    response.headers["X-Content-SHA256"] = facts["sha256"]
    response.headers["Cache-Control"] = "private, no-store"
    return response


def register_pdf_response(actor: Actor, register: str, year: int, series: str, origin: RequestOrigin,
                          agency_id: int | None = None) -> Response:
    """A register of the year as a printable PDF (A4 landscape)."""
    service = container().registers
    book = service.book(actor, register, year, series, origin, agency_id)
    response = Response(service.pdf(book), mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'inline; filename="so-van-ban-{"den" if register == "incoming" else "di"}-{series}-{year}.pdf"')
    response.headers["Cache-Control"] = "private, no-store"
    return response


def dossier_export_response(actor: Actor, dossier_id: int, *, renditions: bool, origin: RequestOrigin) -> Response:
    """A dossier's export ZIP as a download, streamed from its temporary file, which goes afterwards."""
    export = container().exports.export(actor, dossier_id, origin=origin, renditions=renditions)

    def stream() -> Iterator[bytes]:
        try:
            with export.path.open("rb") as fh:
                while chunk := fh.read(256 * 1024):
                    yield chunk
        finally:
            export.discard()

    response = Response(stream(), mimetype="application/zip", direct_passthrough=True)
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response.headers["Content-Length"] = str(export.size)
    response.headers["X-Content-SHA256"] = export.sha256
    response.headers["Cache-Control"] = "private, no-store"
    return response
