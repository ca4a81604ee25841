"""Where a visible signature goes: found from the document, with a sane fallback.

Order of search for a person's signature (:func:`find_anchor`):

1. a named empty signature field (a placeholder prepared by the drafter);
2. a marker text — a placeholder string such as ``[[ky_so]]`` or the signer's printed name —
   located with pypdf's text extraction (positions from the text matrix, widths from the
   Times-compatible metrics of Liberation Serif); pages are searched from the last;
3. otherwise the bottom right of the last page.

For a printed name, the signature box sits between the name and the title line just above it
(Decree 30: "centred between the title line and the name").

Everything here reads the PDF with pypdf and returns plain numbers (PDF points, origin at the
page's lower left); :mod:`signing.appearance` decides what to draw.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
import weakref
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from pypdf import PdfReader
from pypdf.generic import ContentStream, DictionaryObject, IndirectObject

from signing.errors import AppearanceError, InvalidDocumentError
from signing.fonts import font_path

Box = tuple[float, float, float, float]  # x0, y0, x1, y1


@dataclass(frozen=True)
class TextHit:
    """A marker found on a page: its box, font size and the baseline it sits on."""

    page: int
    x0: float
    x1: float
    baseline: float
    size: float

    @property
    def center_x(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def top(self) -> float:
        return self.baseline + 0.75 * self.size


@dataclass(frozen=True)
class Anchor:
    """What the search found: ``kind`` is ``field``, ``name``, ``marker`` or ``fallback``."""

    kind: str
    page: int
    box: Box  # the field's rectangle, or the free space the signature image may use
    field_name: str | None = None  # for kind == "field"
    hit: TextHit | None = None  # for name / marker
    page_box: Box = (0.0, 0.0, 595.28, 841.89)


@dataclass(frozen=True)
class SignatureWidget:
    """A filled signature field's widget on a page, and where its image was drawn."""

    field_name: str
    page: int
    rect: Box
    image_rect: Box | None


# ====================================================================== reading
def open_reader(pdf: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(pdf))
        if reader.is_encrypted:
            raise InvalidDocumentError("the PDF is encrypted; decrypt it before signing")
        len(reader.pages)
    except InvalidDocumentError:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types for broken files
        raise InvalidDocumentError(f"not a readable PDF: {exc}") from None
    return reader


def page_box(reader: PdfReader, page: int) -> Box:
    box = reader.pages[page].cropbox
    return float(box.left), float(box.bottom), float(box.right), float(box.top)


# ====================================================================== fields
def signature_fields(reader: PdfReader) -> list[tuple[str, DictionaryObject, bool]]:
    """(name, merged field/widget dictionary, filled) for every signature field."""
    out: list[tuple[str, DictionaryObject, bool]] = []
    root = cast(DictionaryObject, reader.trailer["/Root"])
    form = root.get("/AcroForm")
    if form is None:
        return out
    stack: list[tuple[Any, str]] = [(f, "") for f in reversed(form.get_object().get("/Fields", []))]
    while stack:
        ref, parent = stack.pop()
        node = ref.get_object()
        name = str(node.get("/T", ""))
        full = f"{parent}.{name}" if parent and name else (name or parent)
        kids = node.get("/Kids")
        if kids and any("/T" in k.get_object() for k in kids):
            stack.extend((k, full) for k in reversed(kids))
            continue
        if node.get("/FT") == "/Sig":
            out.append((full, node, node.get("/V") is not None))
    return out


def _widget_page(reader: PdfReader, widget: DictionaryObject, widget_ref: Any) -> int:
    p = widget.get("/P")
    if isinstance(p, IndirectObject):
        for i, page in enumerate(reader.pages):
            if page.indirect_reference is not None and page.indirect_reference.idnum == p.idnum:
                return i
    for i, page in enumerate(reader.pages):
        for annot in page.get("/Annots", []) or []:
            if isinstance(annot, IndirectObject) and isinstance(widget_ref, IndirectObject) \
                    and annot.idnum == widget_ref.idnum:
                return i
    return 0


def _widgets(node: DictionaryObject) -> list[tuple[DictionaryObject, Any]]:
    kids = node.get("/Kids")
    if kids:
        return [(k.get_object(), k) for k in kids]
    return [(node, node.indirect_reference)]


def _rect(widget: DictionaryObject) -> Box | None:
    rect = widget.get("/Rect")
    if rect is None:
        return None
    x0, y0, x1, y1 = (float(v) for v in rect)
    box = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
    return box if box[2] - box[0] > 1 and box[3] - box[1] > 1 else None


def empty_field_anchor(reader: PdfReader, field_name: str) -> Anchor | None:
    """The placeholder field ``field_name`` if the document has it empty and visible."""
    for name, node, filled in signature_fields(reader):
        if name != field_name:
            continue
        if filled:
            raise InvalidDocumentError(f"signature field {field_name!r} is already signed")
        for widget, ref in _widgets(node):
            rect = _rect(widget)
            if rect is not None:
                page = _widget_page(reader, widget, ref)
                return Anchor("field", page, rect, field_name=name, page_box=page_box(reader, page))
        return Anchor("field", 0, (0, 0, 0, 0), field_name=name, page_box=page_box(reader, 0))  # invisible
    return None


def signed_widgets(reader: PdfReader) -> list[SignatureWidget]:
    """Visible widgets of filled signature fields (document timestamps excluded), in field order."""
    out = []
    for name, node, filled in signature_fields(reader):
        if not filled:
            continue
        value = cast(DictionaryObject, node["/V"].get_object())  # filled: /V is set
        if value.get("/Type") == "/DocTimeStamp":
            continue
        for widget, ref in _widgets(node):
            rect = _rect(widget)
            if rect is None:
                continue
            out.append(SignatureWidget(name, _widget_page(reader, widget, ref), rect, _image_rect(widget, rect)))
    return out


def _image_rect(widget: DictionaryObject, rect: Box) -> Box | None:
    """Where the appearance stream paints an image, in page coordinates (None if no image)."""
    try:
        normal = cast(DictionaryObject, widget["/AP"])["/N"].get_object()
        return _find_image(normal, rect, _matrix_of(normal))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _matrix_of(form: Any) -> list[float]:
    """Map the form's BBox onto the widget Rect (PDF 32000 §12.5.5), ignoring a /Matrix rotation."""
    bbox = [float(v) for v in form["/BBox"]]
    return [1.0, 0.0, 0.0, 1.0, -min(bbox[0], bbox[2]), -min(bbox[1], bbox[3])]


def _find_image(form: Any, rect: Box, base: list[float], depth: int = 0) -> Box | None:
    if depth > 4:
        return None
    resources = form.get("/Resources", {})
    xobjects = resources.get("/XObject", {}) if resources else {}
    stack, ctm = [], list(base)
    for operands, op in ContentStream(form, None).operations:
        if op == b"q":
            stack.append(list(ctm))
        elif op == b"Q" and stack:
            ctm = stack.pop()
        elif op == b"cm":
            ctm = _mul([float(v) for v in operands], ctm)
        elif op == b"Do":
            xobj = xobjects[operands[0]].get_object()
            if xobj.get("/Subtype") == "/Image":
                xs = [ctm[0] * u + ctm[2] * v + ctm[4] for u, v in ((0, 0), (1, 0), (0, 1), (1, 1))]
                ys = [ctm[1] * u + ctm[3] * v + ctm[5] for u, v in ((0, 0), (1, 0), (0, 1), (1, 1))]
                return rect[0] + min(xs), rect[1] + min(ys), rect[0] + max(xs), rect[1] + max(ys)
            if xobj.get("/Subtype") == "/Form":
                inner = _mul([float(v) for v in xobj.get("/Matrix", [1, 0, 0, 1, 0, 0])], ctm)
                found = _find_image(xobj, rect, inner, depth + 1)
                if found:
                    return found
    return None


def _mul(a: list[float], b: list[float]) -> list[float]:
    """a × b for PDF matrices [a b c d e f]."""
    return [a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3],
            a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3],
            a[4] * b[0] + a[5] * b[2] + b[4], a[4] * b[1] + a[5] * b[3] + b[5]]


# ====================================================================== text
@dataclass(frozen=True)
class _Chunk:
    text: str
    x: float
    y: float
    size: float


@dataclass
class _Line:
    y: float
    chunks: list[_Chunk]

    def text_and_offsets(self) -> tuple[str, list[tuple[int, _Chunk]]]:
        parts, offsets, pos, prev_end = [], [], 0, None
        for ch in sorted(self.chunks, key=lambda c: c.x):
            if prev_end is not None and ch.x - prev_end > 0.15 * ch.size and not parts[-1].endswith(" "):
                parts.append(" ")
                pos += 1
            offsets.append((pos, ch))
            parts.append(ch.text)
            pos += len(ch.text)
            prev_end = ch.x + text_width(ch.text, ch.size)
        return "".join(parts), offsets


_LINES_CACHE: weakref.WeakKeyDictionary[PdfReader, dict[int, list[_Line]]] = weakref.WeakKeyDictionary()


def page_lines(reader: PdfReader, page: int) -> list[_Line]:
    """Text lines of a page (chunks on one baseline), extracted once per reader."""
    cache = _LINES_CACHE.setdefault(reader, {})
    if page not in cache:
        cache[page] = _extract_lines(reader, page)
    return cache[page]


def _extract_lines(reader: PdfReader, page: int) -> list[_Line]:
    chunks: list[_Chunk] = []

    def visit(text: str, cm: list[float], tm: list[float], _font: Any, size: float) -> None:
        clean = unicodedata.normalize("NFC", text.replace("\n", "").replace("\r", ""))
        if not clean.strip():
            return
        m = _mul(list(tm), list(cm))
        eff = float(size) * math.hypot(m[2], m[3])
        chunks.append(_Chunk(clean, m[4], m[5], eff or float(size)))

    try:
        reader.pages[page].extract_text(visitor_text=visit)
    except Exception as exc:  # noqa: BLE001
        raise InvalidDocumentError(f"cannot read the text of page {page + 1}: {exc}") from None
    lines: list[_Line] = []
    for ch in sorted(chunks, key=lambda c: -c.y):
        for line in lines:
            if abs(line.y - ch.y) <= 0.3 * ch.size:
                line.chunks.append(ch)
                break
        else:
            lines.append(_Line(ch.y, [ch]))
    return lines


#: Markers and names are searched on the last pages only (signature blocks end documents);
#: scanning the text of a 100-page file at every signature would cost more than signing it.
SEARCH_LAST_PAGES = 5


def find_text(reader: PdfReader, needle: str, *, last_pages: int = SEARCH_LAST_PAGES) -> TextHit | None:
    """The last occurrence of ``needle`` (case and spacing insensitive) on the last pages."""
    wanted = _normalise(re.sub(r"\s+", " ", needle).strip())
    if not wanted:
        return None
    count = len(reader.pages)
    for page in range(count - 1, max(count - last_pages, 0) - 1, -1):
        for line in reversed(page_lines(reader, page)):
            text, offsets = line.text_and_offsets()
            idx = _normalise(text).rfind(wanted)
            if idx < 0:
                continue
            start_chunk_pos, chunk = max((o for o in offsets if o[0] <= idx), key=lambda o: o[0])
            x0 = chunk.x + text_width(text[start_chunk_pos:idx], chunk.size)
            x1 = x0 + text_width(text[idx:idx + len(wanted)], chunk.size)
            return TextHit(page, x0, x1, line.y, chunk.size)
    return None


def line_above(reader: PdfReader, hit: TextHit, *, max_distance: float = 200.0) -> TextHit | None:
    """The nearest text line above ``hit`` whose centre is near the hit's (a title line)."""
    best: TextHit | None = None
    for line in page_lines(reader, hit.page):
        if not (hit.baseline + 1.1 * hit.size < line.y <= hit.baseline + max_distance):
            continue
        text, offsets = line.text_and_offsets()
        first = min(c.x for _, c in offsets)
        size = offsets[0][1].size
        candidate = TextHit(hit.page, first, first + text_width(text, size), line.y, size)
        if abs(candidate.center_x - hit.center_x) > 90:
            continue
        if best is None or candidate.baseline < best.baseline:
            best = candidate
    return best


@dataclass(frozen=True)
class LineExtent:
    """A text line's baseline, font size, horizontal extent and text."""

    y: float
    size: float
    x0: float
    x1: float
    text: str


def line_extents(reader: PdfReader, page: int) -> list[LineExtent]:
    """Every text line of ``page`` with where it starts and ends (Times metrics)."""
    out = []
    for line in page_lines(reader, page):
        text, offsets = line.text_and_offsets()
        size = max(c.size for _, c in offsets)
        out.append(LineExtent(line.y, size, min(c.x for _, c in offsets),
                              max(c.x + text_width(c.text, c.size) for _, c in offsets), text))
    return out


def lowest_text(reader: PdfReader, page: int) -> float | None:
    """Baseline of the lowest text line on ``page`` (None for a page without text)."""
    lines = page_lines(reader, page)
    return min((line.y for line in lines), default=None)


def _normalise(text: str) -> str:
    """Case-insensitive form keeping the length (offsets stay valid); NFC is applied at extraction."""
    return re.sub(r"\s", " ", unicodedata.normalize("NFC", text)).casefold()


@lru_cache(maxsize=1)
def _metrics() -> tuple[dict[int, str], dict[str, tuple[int, int]], int]:
    from fontTools.ttLib import TTFont
    font = TTFont(font_path(), lazy=True)
    return dict(font.getBestCmap()), dict(font["hmtx"].metrics), font["head"].unitsPerEm


def text_width(text: str, size: float) -> float:
    """Width of ``text`` set in Liberation Serif (= Times New Roman metrics) at ``size`` points."""
    cmap, hmtx, upem = _metrics()
    total = 0
    for ch in unicodedata.normalize("NFC", text):
        glyph = cmap.get(ord(ch))
        total += hmtx[glyph][0] if glyph in hmtx else upem // 2
    return total * size / upem


# ====================================================================== the search
def find_anchor(reader: PdfReader, *, field_name: str | None = None, markers: tuple[str, ...] = (),
                name: str | None = None) -> Anchor:
    """Where a signer's signature goes: placeholder field, marker, printed name, or fallback."""
    if field_name:
        anchor = empty_field_anchor(reader, field_name)
        if anchor is not None:
            return anchor
    for marker in markers:
        hit = find_text(reader, marker)
        if hit is not None:
            return Anchor("marker", hit.page, (hit.x0, hit.baseline - 0.25 * hit.size, hit.x1, hit.top), hit=hit,
                          page_box=page_box(reader, hit.page))
    if name:
        hit = find_text(reader, name)
        if hit is not None:
            return _space_above_name(reader, hit)
    last = len(reader.pages) - 1
    pb = page_box(reader, last)
    return Anchor("fallback", last, pb, page_box=pb)


def _space_above_name(reader: PdfReader, hit: TextHit) -> Anchor:
    """The free band between the printed name and the title line above it."""
    title = line_above(reader, hit)
    bottom = hit.top + 2
    top = (title.baseline - 0.3 * title.size - 2) if title is not None else bottom + 80
    if top - bottom < 20:
        raise AppearanceError("no room between the title line and the signer's name for the signature")
    center = (hit.center_x + title.center_x) / 2 if title is not None else hit.center_x
    half = 110.0
    return Anchor("name", hit.page, (center - half, bottom, center + half, top), hit=hit,
                  page_box=page_box(reader, hit.page))


def clamp(box: Box, page: Box, margin: float = 4.0) -> Box:
    """Shift ``box`` (keeping its size) so it lies inside ``page``."""
    x0, y0, x1, y1 = box
    dx = max(page[0] + margin - x0, 0) + min(page[2] - margin - x1, 0)
    dy = max(page[1] + margin - y0, 0) + min(page[3] - margin - y1, 0)
    return x0 + dx, y0 + dy, x1 + dx, y1 + dy
