"""A corpus of malformed and hostile PDFs (and near-PDFs), made here from real documents.

Each entry is (name, bytes). The fuzz tests feed them, and mutations of them, to the upload
inspection and to the API; the atheris harness (bench/fuzz_upload.py) seeds its corpus with them."""

from __future__ import annotations

import io
import zlib
from functools import lru_cache

from tests.fixtures.pdfs import encrypted_pdf, malformed_pdf, official_pdf, scanned_pdf


def _pdf(objects: list[bytes], root: int = 1, *, xref: bool = True, trailer_extra: bytes = b"") -> bytes:
    """A hand-made PDF from object bodies (1-based), with a correct xref table unless ``xref`` is False."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    start = out.tell()
    if xref:
        out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
        for off in offsets:
            out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, root, trailer_extra, start))
    return out.getvalue()


def _page(extra: bytes = b"") -> bytes:
    return b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] " + extra + b">>"


def _stream(data: bytes, filters: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), filters) + data + b"\nendstream"


def hostile_pdfs() -> list[tuple[str, bytes]]:
    good = official_pdf()
    bomb = zlib.compress(b"\x00" * (64 * 1024 * 1024), 9)  # 64 MB of zeros in ~64 kB
    deep = b"[" * 5000 + b"]" * 5000
    return [
        ("good", good),
        ("zero bytes", b""),
        ("one byte", b"%"),
        ("only the header", b"%PDF-1.7\n"),
        ("wrong magic", b"%PDX-1.7\n" + good[9:]),
        ("html pretending", b"<html><body>%PDF-1.4</body></html>"),
        ("truncated half", good[: len(good) // 2]),
        ("truncated tail", good[:-40]),
        ("no eof marker", good.replace(b"%%EOF", b"")),
        ("bad startxref", good.rsplit(b"startxref", 1)[0] + b"startxref\n99999999\n%%EOF\n"),
        ("garbage xref", good.replace(b"xref", b"xrfe", 1)),
        ("malformed", malformed_pdf()),
        ("encrypted", encrypted_pdf()),
        ("scanned", scanned_pdf()),
        ("huge page count", _pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                                  b"<< /Type /Pages /Kids [3 0 R] /Count 2147483647 >>", _page()])),
        ("negative page count", _pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                                      b"<< /Type /Pages /Kids [3 0 R] /Count -5 >>", _page()])),
        ("page tree cycle", _pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                                  b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>", _page()])),
        ("kids not a list", _pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                                  b"<< /Type /Pages /Kids 3 0 R /Count 1 >>", _page()])),
        ("no pages", _pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"])),
        ("catalog not a dict", _pdf([b"[1 2 3]"])),
        ("root missing", _pdf([b"<< /Type /Catalog /Pages 2 0 R >>"], root=7)),
        ("mediabox strings", _pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                                   b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                                   b"<< /Type /Page /Parent 2 0 R /MediaBox [(a) (b) /c null] >>"])),
        ("deep nesting", _pdf([b"<< /Type /Catalog /Pages 2 0 R /X " + deep + b" >>",
                               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", _page()])),
        ("javascript and embedded file", _pdf([
            b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R"
            b" /Names << /EmbeddedFiles << /Names [(x.exe) 5 0 R] >> >> >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", _page(),
            b"<< /S /JavaScript /JS (app.alert\\('x'\\)) >>",
            b"<< /Type /Filespec /F (x.exe) /EF << /F 6 0 R >> >>", _stream(b"MZ\x90\x00" * 100)])),
        ("decompression bomb content", _pdf([
            b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            _page(b"/Contents 4 0 R "), _stream(bomb, b"/Filter /FlateDecode ")])),
        ("bomb in acroform", _pdf([
            b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] >> >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", _page(),
            b"<< /FT /Sig /T (Signature1) /V 5 0 R >>",
            b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [0 10 20 30] "
            b"/Contents <3082> >>"])),
        ("fake signature field", _pdf([
            b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] >> >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", _page(),
            b"<< /FT /Sig /T (Signature1) /V << /Type /Sig /ByteRange [0 -1 99999999 5] /Contents <00ff> >> >>"])),
        ("fields cycle", _pdf([
            b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] >> >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", _page(), b"<< /T (a) /Kids [4 0 R] /Parent 4 0 R >>"])),
        ("object stream bomb", _pdf([
            b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", _page(),
            _stream(bomb, b"/Type /ObjStm /N 1000000 /First 10 /Filter /FlateDecode ")])),
        ("xref prev loop", _pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                                 _page()], trailer_extra=b"/Prev 9 ")),
        ("no xref at all", _pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                                 _page()], xref=False)),
        ("png header only", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40),
        ("jpeg header only", b"\xff\xd8\xff\xe0" + b"\x00" * 40),
        ("tiff header only", b"II*\x00" + b"\xff" * 40),
    ]


@lru_cache(maxsize=1)
def corpus() -> tuple[tuple[str, bytes], ...]:
    return tuple(hostile_pdfs())
