"""The fields an official document needs on its face before the competent person certifies it.

Decree 30 has the registry give the number/notation (box 3, ``Số: 05/QĐ-UBND``) and the place
and date (box 4, ``Đồng Đăng, ngày 07 tháng 12 năm 2026``) at the moment it applies the
organisation's signature. The competent person certifies the document first (DocMDP, form
filling allowed); under that certification stock validators (pyHanko's default difference
policy) accept later *form filling* and the signing of *existing* signature fields, but not new
visible fields. So every field the registry fills is created in the certifying revision:

- ``docsvc_so`` — a read-only text field over the blank after ``Số:``;
- ``docsvc_ngay`` — a read-only text field over the blanks of ``ngày … tháng … năm``;
- ``docsvc_con_dau`` — the empty signature field of the organisation's seal, placed over the left
  third of the signer's image;
- ``docsvc_ban_sao`` — the empty signature field of an electronic copy's text signature, top right
  of page 1 (each copy is a separate file made from the issued one and fills it once).

At issue the registry fills the text fields (value + appearance: form filling) in the revision it
signs the seal field, and the seal field locks them (FieldMDP): a later change of the number or
date invalidates the seal even where form filling would be allowed.

Where the values go (:func:`find_slots`): the blanks after ``Số:`` and between ``ngày``,
``tháng`` and ``năm`` on page 1, found in the text layer; or positions given by hand
(:class:`ManualPosition`) when a draft has no such text. The values are printed in the anchor's
font size with Liberation Serif (Times New Roman metrics, every Vietnamese letter); a placeholder
of dots is masked in white. The field layout is kept in the field dictionary (``/DocsvcSlots``,
JSON) so the registry's fill needs nothing but the PDF.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import BoxConstraints
from pyhanko.sign.fields import (
    FieldMDPAction,
    FieldMDPSpec,
    SigFieldSpec,
    append_signature_field,
)
from pypdf import PdfReader

from signing.errors import InvalidDocumentError, IssueFieldsMissingError
from signing.placement import Box, page_box, page_lines, text_width

NUMBER_FIELD = "docsvc_so"
DATE_FIELD = "docsvc_ngay"
SEAL_FIELD = "docsvc_con_dau"
COPY_FIELD = "docsvc_ban_sao"
TEXT_FIELDS = (NUMBER_FIELD, DATE_FIELD)
SLOTS_KEY = "/DocsvcSlots"

MM = 72 / 25.4
#: Text flags: ReadOnly (bit 1); viewers do not let a reader type over the number or date.
_READ_ONLY = 1
#: Widget flags: Print (bit 3).
_PRINT = 4
_BLANK = r"[ \u00a0.\u2026_]*"
#: "Số:" then blanks, then the notation ("/QĐ-UBND") or the end of the line: a number already
#: typed ("Số: 15/QĐ-UBND", a citation) is not a blank to fill.
_NUMBER_LINE = re.compile(rf"Số\s*:({_BLANK})(?:(/\S+)|$)", re.IGNORECASE)
_DATE_LINE = re.compile(rf"ngày({_BLANK})tháng({_BLANK})năm(\s*)(\d{{4}}|{_BLANK})", re.IGNORECASE)


@dataclass(frozen=True)
class Slot:
    """Where one value is printed: ``x0..x1`` on ``baseline``, ``size`` points; ``mask`` covers a
    placeholder (dots) in white first; ``align`` is ``left``, ``center`` or ``right``."""

    x0: float
    x1: float
    baseline: float
    size: float
    align: str = "center"
    mask: bool = False

    def rect(self) -> Box:
        return self.x0, self.baseline - 0.3 * self.size, self.x1, self.baseline + 0.9 * self.size


@dataclass(frozen=True)
class NumberSlots:
    """The number goes in ``number``; ``suffix`` is the notation printed by the draft (``/QĐ-UBND``):
    when the registry's notation differs, ``suffix_slot`` is masked and the whole label printed."""

    page: int
    number: Slot
    suffix: str = ""
    suffix_slot: Slot | None = None


@dataclass(frozen=True)
class DateSlots:
    """Day and month (and the year when the draft left it blank, or printed another one); or, when
    the blanks are too narrow for the numbers, ``whole``: the draft's ``ngày … năm …`` masked and
    the whole date printed over it."""

    page: int
    day: Slot | None
    month: Slot | None
    year: Slot | None
    printed_year: str = ""
    whole: Slot | None = None


@dataclass(frozen=True)
class ManualPosition:
    """A place given by the clerk for a draft without the ``Số:`` / ``ngày … tháng … năm`` text:
    the whole line is printed there (``Số: 05/QĐ-UBND``, ``<place>, ngày 07 tháng 12 năm 2026``),
    left-aligned at ``x`` on ``y`` (PDF points from the lower left of the page)."""

    page: int
    x: float
    y: float
    size: float = 13.0


@dataclass(frozen=True)
class IssueLayout:
    """What the certifying revision creates: text fields, the seal field and the copy field."""

    number: NumberSlots | ManualPosition
    date: DateSlots | ManualPosition
    seal: tuple[int, Box] | None  # page, rectangle
    copy: tuple[int, Box] | None


# ====================================================================== finding the blanks
def find_slots(reader: PdfReader) -> tuple[NumberSlots | None, DateSlots | None]:
    """The blanks of ``Số:`` and ``ngày … tháng … năm`` on page 1 (None for one not found).

    Only a date line whose day and month are blank counts: ``Căn cứ Luật … ngày 19 tháng 6 năm
    2015`` in the body is not box 4."""
    number: NumberSlots | None = None
    when: DateSlots | None = None
    for line in page_lines(reader, 0):
        text, offsets = line.text_and_offsets()
        x_at = functools.partial(_x_at, text, offsets)

        if number is None and (m := _NUMBER_LINE.search(text)):
            gap_start, size = x_at(m.start(1))
            gap_end, _ = x_at(m.end(1))
            suffix = m.group(2) or ""
            lead = text_width(" ", size)
            # the blank itself when a notation follows (too narrow: the label is printed over it at issue)
            x1 = max(gap_end, gap_start + lead) if suffix else gap_start + lead + 2 * text_width("0", size)
            slot = Slot(gap_start + lead, x1, line.y, size, align="right" if suffix else "left",
                        mask="." in m.group(1) or "…" in m.group(1))
            suffix_slot = None
            if suffix:
                s0, _ = x_at(m.start(2))
                suffix_slot = Slot(s0, s0 + text_width(suffix, size), line.y, size, align="left", mask=True)
            number = NumberSlots(0, slot, suffix, suffix_slot)
        if when is None and (m := _DATE_LINE.search(text)):
            when = _date_slots(m, x_at, line.y)
        if number is not None and when is not None:
            break
    return number, when


def _date_slots(m: re.Match[str], x_at: Any, baseline: float) -> DateSlots:
    """The blanks of ``ngày … tháng … năm …``; blanks too narrow for two digits make the whole
    date one masked slot."""
    year_text = m.group(4)
    printed = year_text if year_text.isdigit() else ""
    slots = []
    for group in (1, 2):
        g0, size = x_at(m.start(group))
        g1, _ = x_at(m.end(group))
        if g1 - g0 < 1.2 * text_width("00", size):
            x0, size = x_at(m.start())
            x1, _ = x_at(m.end())
            return DateSlots(0, None, None, None, printed, whole=Slot(x0, max(x1, x0 + text_width(
                "ngày 00 tháng 00 năm 0000", size)), baseline, size, align="left", mask=True))
        slots.append(Slot(g0, g1, baseline, size, mask="." in m.group(group) or "…" in m.group(group)))
    if printed:
        y0, size = x_at(m.start(4))
        year = Slot(y0, y0 + text_width(year_text, size), baseline, size, align="left", mask=True)
    else:
        y0, size = x_at(m.start(3))
        year = Slot(y0 + text_width(" ", size), y0 + text_width(" 0000 ", size), baseline, size, align="left",
                    mask=bool(year_text.strip()))
    return DateSlots(0, slots[0], slots[1], year, printed_year=printed)


def _x_at(text: str, offsets: list[tuple[int, Any]], index: int) -> tuple[float, float]:
    """The x position of character ``index`` of a line, and the font size there."""
    start, chunk = max((o for o in offsets if o[0] <= index), key=lambda o: o[0])
    return chunk.x + text_width(text[start:index], chunk.size), chunk.size


# ====================================================================== creating the fields
def add_issue_fields(writer: IncrementalPdfFileWriter, layout: IssueLayout) -> None:
    """Create the text fields, the seal field (locking the text fields) and the copy field in the
    revision ``writer`` is about to write (the certifying one)."""
    _add_text_field(writer, NUMBER_FIELD, layout.number)
    _add_text_field(writer, DATE_FIELD, layout.date)
    if layout.seal is not None:
        page, box = layout.seal
        append_signature_field(writer, SigFieldSpec(
            SEAL_FIELD, on_page=page, box=_rounded(box),
            field_mdp_spec=FieldMDPSpec(FieldMDPAction.INCLUDE, fields=list(TEXT_FIELDS))))
    if layout.copy is not None:
        page, box = layout.copy
        append_signature_field(writer, SigFieldSpec(COPY_FIELD, on_page=page, box=_rounded(box)))


def _rounded(box: Box) -> Any:
    """Two decimals (pyHanko annotates boxes as ints but writes any number)."""
    return tuple(round(v, 2) for v in box)


def _slots_of(where: NumberSlots | DateSlots | ManualPosition) -> dict[str, object]:
    kind = type(where).__name__
    return {"kind": kind, **asdict(where)}


def _widget_rect(where: NumberSlots | DateSlots | ManualPosition) -> Box:
    if isinstance(where, ManualPosition):
        return where.x - 2, where.y - 0.3 * where.size, where.x + 460, where.y + 0.9 * where.size
    slots = [s for s in ((where.number, where.suffix_slot) if isinstance(where, NumberSlots)
                         else (where.day, where.month, where.year, where.whole)) if s is not None]
    rects = [s.rect() for s in slots]
    # room on the right for a label longer than the draft's notation (the appearance is clipped to the widget)
    spare = 6 * where.number.size if isinstance(where, NumberSlots) else 2
    return (min(r[0] for r in rects) - 2, min(r[1] for r in rects), max(r[2] for r in rects) + spare,
            max(r[3] for r in rects))


def _add_text_field(writer: IncrementalPdfFileWriter, name: str, where: NumberSlots | DateSlots | ManualPosition
                    ) -> None:
    root = writer.root
    page_ref = writer.find_page_for_modification(where.page)[0]
    rect = _widget_rect(where)
    empty = writer.add_object(_xobject(b"", rect))
    field = generic.DictionaryObject({
        pdf_name("/FT"): pdf_name("/Tx"), pdf_name("/T"): pdf_string(name), pdf_name("/Ff"): generic.NumberObject(
            _READ_ONLY), pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Widget"),
        pdf_name("/Rect"): generic.ArrayObject([generic.FloatObject(round(v, 2)) for v in rect]),
        pdf_name("/F"): generic.NumberObject(_PRINT), pdf_name("/P"): page_ref,
        pdf_name("/DA"): pdf_string("/Helv 0 Tf 0 g"),
        pdf_name("/AP"): generic.DictionaryObject({pdf_name("/N"): empty}),
        pdf_name(SLOTS_KEY): pdf_string(json.dumps(_slots_of(where), ensure_ascii=True)),
    })
    ref = writer.add_object(field)
    form = root.get("/AcroForm")
    if form is None:
        form = generic.DictionaryObject({pdf_name("/Fields"): generic.ArrayObject()})
        root[pdf_name("/AcroForm")] = writer.add_object(form)
        writer.update_root()
    else:
        form = form.get_object()
        if isinstance(root.raw_get("/AcroForm"), generic.IndirectObject):
            writer.mark_update(root.raw_get("/AcroForm"))
        else:
            writer.update_root()
    fields = form.get("/Fields")
    if fields is None:
        form[pdf_name("/Fields")] = fields = generic.ArrayObject()
    else:
        fields = fields.get_object()
        raw = form.raw_get("/Fields")
        if isinstance(raw, generic.IndirectObject):
            writer.mark_update(raw)
    if any(str(f.get_object().get("/T", "")) == name for f in fields):
        raise InvalidDocumentError(f"the document already has a field named {name!r}")
    fields.append(ref)
    page = page_ref.get_object()
    annots = page.get("/Annots")
    if annots is None:
        page[pdf_name("/Annots")] = generic.ArrayObject([ref])
        writer.mark_update(page_ref)
    else:
        raw = page.raw_get("/Annots")
        annots.get_object().append(ref)
        writer.mark_update(raw if isinstance(raw, generic.IndirectObject) else page_ref)


def _xobject(content: bytes, rect: Box) -> generic.StreamObject:
    from pyhanko.pdf_utils.writer import init_xobject_dictionary
    return init_xobject_dictionary(content, rect[2] - rect[0], rect[3] - rect[1])


# ====================================================================== filling them (the registry)
def date_parts(day: date) -> tuple[str, str, str]:
    """Decree 30 (Appendix I, box 4): days below 10 and the months 1 and 2 take a leading zero."""
    return f"{day.day:02d}", f"{day.month:02d}" if day.month < 3 else str(day.month), str(day.year)


def fill_issue_fields(writer: IncrementalPdfFileWriter, *, number_notation: str, issued: date,
                      place: str | None = None) -> None:
    """Print ``number_notation`` and ``issued`` into the fields (value + appearance): form filling
    in the revision the registry signs. ``place`` prefixes a hand-placed date line."""
    from signing.appearance import (
        DecreeStamp,
        DecreeStampStyle,
        MaskElement,
        TextElement,
    )
    fields = _text_fields(writer)
    missing = [n for n in TEXT_FIELDS if n not in fields]
    if missing:
        raise InvalidDocumentError(f"the document has no field {', '.join(missing)} for the number and date: it "
                                   "was certified without them")
    day, month, year = date_parts(issued)
    values = {NUMBER_FIELD: number_notation, DATE_FIELD: issued.isoformat()}
    for name, (ref, field) in fields.items():
        if name not in values:
            continue
        spec = json.loads(str(field[SLOTS_KEY]))
        rect = [float(v) for v in field["/Rect"]]
        elements: list[object] = []
        if spec["kind"] == "ManualPosition":
            text = f"Số: {number_notation}" if name == NUMBER_FIELD else \
                f"{place + ', ' if place else ''}ngày {day} tháng {month} năm {year}"
            elements.append(TextElement(text, spec["x"] - rect[0], spec["y"] - rect[1], spec["size"], align="left"))
        else:
            if name == NUMBER_FIELD:
                suffix, slot = spec["suffix"], spec["number"]
                number = number_notation
                fits = text_width(number_notation[: -len(suffix)] if suffix else number_notation, slot["size"]) \
                    <= slot["x1"] - slot["x0"] + text_width(" ", slot["size"])
                if suffix and number_notation.endswith(suffix) and fits:
                    number = number_notation[: -len(suffix)]
                elif spec.get("suffix_slot"):  # another notation, or a number too long for the blank
                    elements.append(_mask(spec["suffix_slot"], rect, MaskElement))
                    spec["number"] = {**spec["number"], "align": "left"}
                items = [(spec["number"], number)]
            else:
                if spec.get("whole"):
                    items = [(spec["whole"], f"ngày {day} tháng {month} năm {year}")]
                else:
                    items = [(spec["day"], day), (spec["month"], month)]
                    if spec.get("year") and spec.get("printed_year") != year:
                        items.append((spec["year"], year))
            for slot, text in items:
                if slot["mask"]:
                    elements.append(_mask(slot, rect, MaskElement))
                x = {"left": slot["x0"], "right": slot["x1"], "center": (slot["x0"] + slot["x1"]) / 2}[slot["align"]]
                elements.append(TextElement(text, x - rect[0], slot["baseline"] - rect[1], slot["size"],
                                            align=slot["align"]))
        style = DecreeStampStyle(elements=tuple(elements))  # type: ignore[arg-type]
        stamp = DecreeStamp(writer, style, BoxConstraints(width=rect[2] - rect[0], height=rect[3] - rect[1]), {})
        stamp.apply_appearance(field)
        field[pdf_name("/V")] = pdf_string(values[name])
        writer.mark_update(ref)


def _mask(slot: dict[str, float], rect: list[float], mask_cls: type) -> object:
    size = slot["size"]
    return mask_cls((slot["x0"] - rect[0] - 1, slot["baseline"] - 0.28 * size - rect[1], slot["x1"] - rect[0] + 1,
                     slot["baseline"] + 0.85 * size - rect[1]))


def _text_fields(
        writer: IncrementalPdfFileWriter) -> dict[str, tuple[generic.IndirectObject, generic.DictionaryObject]]:
    form = writer.root.get("/AcroForm")
    out: dict[str, tuple[generic.IndirectObject, generic.DictionaryObject]] = {}
    if form is None:
        return out
    for ref in form.get_object().get("/Fields", []):
        field = ref.get_object()
        name = str(field.get("/T", ""))
        if name in TEXT_FIELDS and SLOTS_KEY in field:
            out[name] = (ref, field)
    return out


def has_issue_fields(reader: PdfReader) -> bool:
    """Whether the document carries the number and date fields (certified for issue)."""
    form = reader.trailer["/Root"].get_object().get("/AcroForm")  # type: ignore[union-attr]
    if form is None:
        return False
    names = {str(f.get_object().get("/T", "")) for f in form.get_object().get("/Fields", [])}
    return set(TEXT_FIELDS) <= names


# ====================================================================== the seal's and the copy's places
def seal_box(image_rect: Box, page: Box, diameter_mm: float = 38.0, overlap: float = 1 / 3) -> Box:
    """The seal over the left ``overlap`` of the signer's image, vertically centred on it."""
    from signing.placement import clamp
    d = diameter_mm * MM
    x1 = image_rect[0] + (image_rect[2] - image_rect[0]) * overlap
    cy = (image_rect[1] + image_rect[3]) / 2
    return clamp((x1 - d, cy - d / 2, x1, cy + d / 2), page)


def copy_box(reader: PdfReader, *, width: float = 344.0, lines: int = 4, font_size: float = 10.0,
             margin_right_mm: float = 15.0, margin_top_mm: float = 8.0) -> tuple[int, Box]:
    """The top right of page 1, where an electronic copy's text signature goes."""
    pb = page_box(reader, 0)
    right, top = pb[2] - margin_right_mm * MM, pb[3] - margin_top_mm * MM
    return 0, (right - width, top - lines * font_size * 1.2 - 0.4 * font_size, right, top)


def require_positions(number: NumberSlots | ManualPosition | None, when: DateSlots | ManualPosition | None) -> None:
    if number is None or when is None:
        missing = [w for w, v in (("number (Số:)", number), ("date (ngày … tháng … năm)", when)) if v is None]
        raise IssueFieldsMissingError(f"the document shows no place for its {' and '.join(missing)}: give the "
                                      "position on the page before it is signed")
