"""Issue 14 §8: the upload inspection finds active content in real PDFs (built here with pypdf
from a real document), and refuses what is not a PDF from byte 0 with a parsable structure."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from docsvc.errors import InvalidInput, UnsupportedMediaType
from docsvc.services.uploads import inspect_upload
from tests.fixtures.pdfs import malformed_pdf, official_pdf

LIMIT = 10 * 1024 * 1024


def _writer() -> PdfWriter:
    return PdfWriter(clone_from=PdfReader(io.BytesIO(official_pdf())))


def _bytes(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _annotation(writer: PdfWriter, fields: dict[str, object]) -> None:
    annot = DictionaryObject({NameObject("/Type"): NameObject("/Annot"),
                              NameObject("/Rect"): ArrayObject([FloatObject(v) for v in (50, 50, 150, 80)])})
    annot.update({NameObject(k): v for k, v in fields.items()})  # type: ignore[misc]
    page = writer.pages[0]
    page[NameObject("/Annots")] = ArrayObject([writer._add_object(annot)])


def _action(kind: str, **extra: object) -> DictionaryObject:
    d = DictionaryObject({NameObject("/Type"): NameObject("/Action"), NameObject("/S"): NameObject(kind)})
    d.update({NameObject(k): v for k, v in extra.items()})  # type: ignore[misc]
    return d


def document_javascript() -> bytes:
    """A document-level script in the catalog's /Names /JavaScript name tree (runs on open)."""
    w = _writer()
    script = w._add_object(_action("/JavaScript", **{"/JS": TextStringObject("app.alert('xin chào');")}))
    w._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): DictionaryObject(
        {NameObject("/Names"): ArrayObject([TextStringObject("chao"), script])})})
    return _bytes(w)


def open_action_javascript() -> bytes:
    w = _writer()
    w._root_object[NameObject("/OpenAction")] = w._add_object(
        _action("/JavaScript", **{"/JS": TextStringObject("this.submitForm('http://169.254.169.254/')")}))
    return _bytes(w)


def launch_link() -> bytes:
    w = _writer()
    _annotation(w, {"/Subtype": NameObject("/Link"),
                    "/A": _action("/Launch", **{"/F": TextStringObject("cmd.exe"),
                                                "/Win": DictionaryObject({NameObject("/F"): TextStringObject(
                                                    "cmd.exe")})})})
    return _bytes(w)


def page_additional_action() -> bytes:
    w = _writer()
    w.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): _action(
        "/URI", **{"/URI": TextStringObject("http://example.org/")})})
    return _bytes(w)


def embedded_exe() -> bytes:
    w = _writer()
    w.add_attachment("cong-cu.exe", b"MZ\x90\x00" + b"\x00" * 200)
    return _bytes(w)


def embedded_text() -> bytes:
    w = _writer()
    w.add_attachment("ghi-chu.txt", "Ghi chú kèm theo".encode())
    return _bytes(w)


def file_attachment_script() -> bytes:
    w = _writer()
    data = DecodedStreamObject()
    data.set_data(b"@echo off\r\nformat c:\r\n")
    data[NameObject("/Type")] = NameObject("/EmbeddedFile")
    spec = DictionaryObject({NameObject("/Type"): NameObject("/Filespec"),
                             NameObject("/F"): TextStringObject("run.bat"),
                             NameObject("/EF"): DictionaryObject({NameObject("/F"): w._add_object(data)})})
    _annotation(w, {"/Subtype": NameObject("/FileAttachment"), "/FS": w._add_object(spec)})
    return _bytes(w)


def executable_by_type() -> bytes:
    """An embedded file with an innocent name but an executable MIME subtype."""
    w = _writer()
    data = DecodedStreamObject()
    data.set_data(b"MZ" + b"\x00" * 64)
    data[NameObject("/Type")] = NameObject("/EmbeddedFile")
    data[NameObject("/Subtype")] = NameObject("/application#2Fx-msdownload")
    spec = DictionaryObject({NameObject("/Type"): NameObject("/Filespec"), NameObject("/F"): TextStringObject("anh"),
                             NameObject("/EF"): DictionaryObject({NameObject("/F"): w._add_object(data)})})
    _annotation(w, {"/Subtype": NameObject("/FileAttachment"), "/FS": w._add_object(spec)})
    return _bytes(w)


def rich_media() -> bytes:
    w = _writer()
    _annotation(w, {"/Subtype": NameObject("/RichMedia"), "/RichMediaContent": DictionaryObject()})
    return _bytes(w)


def xfa_form() -> bytes:
    w = _writer()
    xfa = DecodedStreamObject()
    xfa.set_data(b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'><script>xfa.host.messageBox('x')</script></xdp:xdp>")
    w._root_object[NameObject("/AcroForm")] = DictionaryObject({
        NameObject("/Fields"): ArrayObject(), NameObject("/XFA"): w._add_object(xfa),
        NameObject("/DA"): TextStringObject(""), NameObject("/NeedAppearances"): NumberObject(0)})
    return _bytes(w)


CASES: list[tuple[Callable[[], bytes], list[str]]] = [
    (document_javascript, ["javascript"]),
    (open_action_javascript, ["javascript", "automatic_actions"]),
    (launch_link, ["launch"]),
    (page_additional_action, ["automatic_actions"]),
    (embedded_exe, ["embedded_executable"]),
    (embedded_text, ["embedded_file"]),
    (file_attachment_script, ["embedded_executable"]),
    (executable_by_type, ["embedded_executable"]),
    (rich_media, ["rich_media"]),
    (xfa_form, ["xfa"]),
]


@pytest.mark.parametrize("make, kinds", CASES, ids=[m.__name__ for m, _ in CASES])
def test_active_content_is_found(make: Callable[[], bytes], kinds: list[str]) -> None:
    facts = inspect_upload(io.BytesIO(make()), "x.pdf", max_bytes=LIMIT)
    assert list(facts.active_content) == kinds


def test_an_ordinary_document_has_none() -> None:
    assert inspect_upload(io.BytesIO(official_pdf()), "x.pdf", max_bytes=LIMIT).active_content == ()


@pytest.mark.parametrize("data, fragment", [
    (b"<html><body><script>alert(document.cookie)</script></body></html>\n" + official_pdf(), "at byte 66"),
    (b" " + official_pdf(), "at byte 1"),
    (b"%PDF-1.7\n<html><script>alert(1)</script></html>\n", "structure"),
    (malformed_pdf(), "structure"),
], ids=["html first", "a space first", "html after the header", "malformed"])  # the PDFs hold their creation time
def test_a_pdf_starts_at_byte_0_and_its_structure_parses(data: bytes, fragment: str) -> None:
    with pytest.raises(UnsupportedMediaType) as err:
        inspect_upload(io.BytesIO(data), "hop-le.pdf", max_bytes=LIMIT)
    assert fragment in err.value.message


def test_a_broken_page_tree_in_a_sound_structure_is_still_a_400() -> None:
    from tests.fuzz.corpus import hostile_pdfs
    cycle = dict(hostile_pdfs())["page tree cycle"]
    with pytest.raises(InvalidInput):
        inspect_upload(io.BytesIO(cycle), "x.pdf", max_bytes=LIMIT)
