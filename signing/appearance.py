"""Visible signatures per Decree 30/2020 (Appendix I), rendered as pyHanko appearance streams.

Three appearances:

- :class:`SignerAppearance` — the person's blue signature image, centred between the title line
  and the printed name (found with :mod:`signing.placement`); when the document has no signature
  block, the appearance prints the block itself: authority line (``KT. CHỦ TỊCH``, ``TM. ...``),
  title, image, name — at the bottom right of the last page;
- :class:`SealAppearance` — the organisation's red seal at real size (36–42 mm), overlapping the
  left third of the signer's image;
- :class:`TextAppearance` — text only, top right of page 1, Liberation Serif (Times metrics, full
  Vietnamese) 10 pt black: ``15/QĐ-UBND; 20/11/2026; 14:03:22 +07:00`` for an attachment in a
  separate file, ``SAO Y; <organisation>; 20/11/2026; 14:03:22 +07:00`` for an electronic copy.

Dates and times printed are the signing time (the one in the signature dictionary) in +07:00.
"""

from __future__ import annotations

import io
import unicodedata
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TypedDict, Unpack

from PIL import Image, UnidentifiedImageError
from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.content import ResourceType
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.stamp import TextStampStyle
from pyhanko.stamp.base import BaseStamp
from pypdf import PdfReader

from signing.errors import AppearanceError
from signing.fonts import font_path
from signing.pagefields import COPY_FIELD, SEAL_FIELD
from signing.placement import (
    Anchor,
    Box,
    clamp,
    empty_field_anchor,
    find_anchor,
    line_extents,
    page_box,
    signature_fields,
    signed_widgets,
    text_width,
)
from signing.x509util import in_vietnam_time

AUTHORITY_PREFIXES = ("KT.", "TL.", "TUQ.", "Q.", "TM.")
COPY_KINDS = ("SAO Y", "SAO LỤC", "TRÍCH SAO")
MM = 72 / 25.4
IMAGE_DPI = 300  # images are resampled to this resolution at their printed size


# ====================================================================== what to draw
@dataclass(frozen=True)
class ImageElement:
    png: bytes
    rect: Box  # in the appearance box (origin: its lower left)


@dataclass(frozen=True)
class TextElement:
    """One line; ``{date}`` and ``{time}`` are replaced by the signing date and time (+07:00)."""

    text: str
    x: float
    baseline: float
    size: float
    bold: bool = False
    align: str = "center"  # "left" | "center" | "right" (x is the left edge / centre / right edge)
    color: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class MaskElement:
    """A white rectangle hiding a placeholder marker under the signature."""

    rect: Box


Element = ImageElement | TextElement | MaskElement


@dataclass(frozen=True)
class Placement:
    """Where the signature widget goes and what its appearance draws."""

    page: int
    box: Box  # page coordinates
    elements: tuple[Element, ...]
    existing_field: str | None = None  # sign into this placeholder instead of creating a field
    source: str = "fallback"  # field | marker | name | fallback | seal | corner

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]


class Appearance(ABC):
    """A visible signature design: decides the placement from the document."""

    @abstractmethod
    def place(self, reader: PdfReader, *, field_name: str | None = None) -> Placement:
        ...


# ====================================================================== the signer
@dataclass(frozen=True)
class SignerAppearance(Appearance):
    """The competent person's signature.

    ``authority`` is one of KT., TL., TUQ., Q., TM. and ``on_behalf_of`` what follows it
    (``KT. CHỦ TỊCH`` / ``TM. ỦY BAN NHÂN DÂN``); ``title`` is the signer's own title
    (``PHÓ CHỦ TỊCH``). These lines are printed only when the document has no signature block
    (fallback), since a drafted document already shows them. ``markers`` are placeholder texts
    searched before the printed ``name``.
    """

    image: bytes
    name: str | None = None
    title: str | None = None
    authority: str | None = None
    on_behalf_of: str | None = None
    markers: tuple[str, ...] = ("[[ky_so]]",)
    locate_by_name: bool = True
    image_height: float = 56.0  # points (~2 cm)
    max_image_width: float = 180.0
    hide_marker: bool = True
    seal_room_mm: float = 38.0  # a printed block leaves room for a seal this wide over the image

    def __post_init__(self) -> None:
        _image_size(self.image)  # fail early on a bad image
        if self.authority is not None and self.authority not in AUTHORITY_PREFIXES:
            raise AppearanceError(f"authority must be one of {AUTHORITY_PREFIXES}, not {self.authority!r}")

    def place(self, reader: PdfReader, *, field_name: str | None = None) -> Placement:
        anchor = find_anchor(reader, field_name=field_name, markers=self.markers,
                             name=self.name if self.locate_by_name else None)
        if anchor.kind == "field":
            w, h = anchor.box[2] - anchor.box[0], anchor.box[3] - anchor.box[1]
            elements: tuple[Element, ...] = (ImageElement(self.image, _fit((0, 0, w, h), self.image, 2.0)),) \
                if w > 0 else ()
            return Placement(anchor.page, anchor.box, elements, existing_field=anchor.field_name, source="field")
        if anchor.kind == "marker":
            return self._at_marker(anchor)
        if anchor.kind == "name":
            return self._above_name(anchor)
        return self._fallback(reader, anchor)

    def _image_box(self, max_h: float, max_w: float | None = None) -> tuple[float, float]:
        iw, ih = _image_size(self.image)
        h = min(self.image_height, max_h)
        w = h * iw / ih
        limit = min(self.max_image_width, max_w) if max_w else self.max_image_width
        if w > limit:
            w, h = limit, limit * ih / iw
        return w, h

    def _at_marker(self, anchor: Anchor) -> Placement:
        assert anchor.hit is not None
        w, h = self._image_box(self.image_height)
        cx, cy = anchor.hit.center_x, (anchor.box[1] + anchor.box[3]) / 2
        box = clamp((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), anchor.page_box)
        elements: list[Element] = []
        if self.hide_marker:
            mx0, my0, mx1, my1 = anchor.box
            elements.append(MaskElement((mx0 - box[0] - 1, my0 - box[1] - 1, mx1 - box[0] + 1, my1 - box[1] + 1)))
        elements.append(ImageElement(self.image, (0, 0, w, h)))
        return Placement(anchor.page, box, tuple(elements), source="marker")

    def _above_name(self, anchor: Anchor) -> Placement:
        x0, y0, x1, y1 = anchor.box
        w, h = self._image_box(y1 - y0, x1 - x0)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        return Placement(anchor.page, box, (ImageElement(self.image, (0, 0, w, h)),), source="name")

    def _fallback(self, reader: PdfReader, anchor: Anchor) -> Placement:
        """No signature block in the document: print one (authority, title, image, name) at the
        right, its top level with "Nơi nhận:" when the page has that list (Decree 30 puts them side
        by side), else under the last line of text. Above and below the image it leaves the room a
        seal of ``seal_room_mm`` centred on the image needs, so the seal touches neither the title
        nor the name."""
        size, leading = 13.0, 16.0
        heads = [t for t in (
            f"{self.authority} {self.on_behalf_of or ''}".strip() if self.authority else None,
            self.title) if t]
        heads = [t.upper() for t in heads]
        iw, ih = self._image_box(self.image_height)
        clearance = max(6.0, (self.seal_room_mm * MM - ih) / 2 + 2)  # the seal's overhang above/below the image
        widths = [text_width(t, size) for t in [*heads, *([self.name] if self.name else [])]]
        bw = max([iw, *widths]) + 8
        head_h = leading * len(heads)
        name_h = 0.75 * size + clearance + size if self.name else 0.0
        bh = 2 + head_h + (0.25 * size + clearance if heads else 0) + ih + name_h + 4
        px0, py0, px1, _ = anchor.page_box
        right, bottom = px1 - 20 * MM, py0 + 20 * MM
        lines = line_extents(reader, anchor.page)
        recipients = [ln for ln in lines if _normalised_start(ln.text).startswith("nơi nhận")]
        if recipients:  # level with the "Nơi nhận:" heading, beside its list
            top: float | None = max(ln.y + 0.75 * ln.size for ln in recipients) + 2
        else:  # right under the last line, where a signature block would be
            top = min((ln.y for ln in lines), default=None)
            top = top - 24 if top is not None else None
        if top is not None and top - bh >= bottom:
            bottom = top - bh
        box = clamp((right - bw, bottom, right, bottom + bh), anchor.page_box)
        cx = bw / 2
        elements: list[Element] = []
        y = bh - 2 - size
        for line in heads:
            elements.append(TextElement(line, cx, y, size, bold=True))
            y -= leading
        img_top = (y + leading - 0.25 * size - clearance) if heads else bh - 2
        elements.append(ImageElement(self.image, (cx - iw / 2, img_top - ih, cx + iw / 2, img_top)))
        if self.name:
            elements.append(TextElement(self.name, cx, img_top - ih - clearance - 0.75 * size, size, bold=True))
        return Placement(anchor.page, box, tuple(elements), source="fallback")


def _prepared_field(reader: PdfReader, name: str) -> Anchor | None:
    """The visible empty signature field ``name`` prepared for this signature; None when the
    document has none, or has it signed already (a copy of a copy gets a field of its own)."""
    names = {n: filled for n, _, filled in signature_fields(reader)}
    if names.get(name, True):
        return None
    anchor = empty_field_anchor(reader, name)
    return anchor if anchor is not None and anchor.box[2] > anchor.box[0] else None


def _normalised_start(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip()).casefold()


# ====================================================================== the organisation's seal
@dataclass(frozen=True)
class SealAppearance(Appearance):
    """The red seal, real size, covering ``overlap`` (about a third) of the signer's image on
    its left. The signer's signature is the field ``signer_field`` or else the last visible one."""

    image: bytes
    diameter_mm: float = 38.0
    overlap: float = 1 / 3
    signer_field: str | None = None

    def __post_init__(self) -> None:
        _image_size(self.image)
        if not 20 <= self.diameter_mm <= 60:
            raise AppearanceError("a seal's diameter is between 20 and 60 mm")
        if not 0 <= self.overlap <= 1:
            raise AppearanceError("overlap is a fraction of the signer's image width (0..1)")

    def place(self, reader: PdfReader, *, field_name: str | None = None) -> Placement:
        d = self.diameter_mm * MM
        field = _prepared_field(reader, field_name or SEAL_FIELD)
        if field is not None:  # prepared when the signer certified
            w, h = field.box[2] - field.box[0], field.box[3] - field.box[1]
            side = min(w, h)
            return Placement(field.page, field.box, (ImageElement(self.image, ((w - side) / 2, (h - side) / 2,
                                                                                (w + side) / 2, (h + side) / 2)),),
                             existing_field=field.field_name, source="field")
        widgets = signed_widgets(reader)
        if self.signer_field is not None:
            widgets = [w for w in widgets if w.field_name == self.signer_field]
            if not widgets:
                raise AppearanceError(f"no visible signature in field {self.signer_field!r} to put the seal on")
        if widgets:
            signer = widgets[-1]
            img = signer.image_rect or signer.rect
            x1 = img[0] + (img[2] - img[0]) * self.overlap
            cy = (img[1] + img[3]) / 2
            page = signer.page
            box = clamp((x1 - d, cy - d / 2, x1, cy + d / 2), page_box(reader, page))
            source = "seal"
        else:  # nobody signed visibly: bottom right of the last page, where a signer would be
            page = len(reader.pages) - 1
            pb = page_box(reader, page)
            box = (pb[2] - 20 * MM - 60 - d, pb[1] + 25 * MM, pb[2] - 20 * MM - 60, pb[1] + 25 * MM + d)
            source = "fallback"
        return Placement(page, box, (ImageElement(self.image, (0, 0, d, d)),), source=source)


# ====================================================================== text-only organisation signature
class TextLayout(TypedDict, total=False):
    """The layout settings of a ``TextAppearance`` its constructors pass through."""

    font_size: float
    max_width: float
    margin_right_mm: float
    margin_top_mm: float


@dataclass(frozen=True)
class TextAppearance(Appearance):
    """Text only, top right of page 1: ``parts`` joined by "; " then the signing date and time."""

    parts: tuple[str, ...]
    font_size: float = 10.0
    max_width: float = 340.0
    margin_right_mm: float = 15.0
    margin_top_mm: float = 8.0
    field: str | None = None  # an empty field prepared for it (an electronic copy's), used when present

    @classmethod
    def attachment(cls, number_notation: str, **options: Unpack[TextLayout]) -> TextAppearance:
        """Organisation signature on an attachment in a separate file: ``15/QĐ-UBND; date; time``."""
        if not number_notation.strip():
            raise AppearanceError("the document's number and notation are required")
        return cls((number_notation.strip(),), **options)

    @classmethod
    def copy(cls, kind: str, organisation: str, number_notation: str | None = None,
             **options: Unpack[TextLayout]) -> TextAppearance:
        """Electronic copy: ``SAO Y; Số: 01/SY-UBND; <organisation>; date; time`` (or SAO LỤC,
        TRÍCH SAO); the copy's own number when given. Fills the copy field prepared at
        certification when the document has it."""
        if kind.upper() not in COPY_KINDS:
            raise AppearanceError(f"copy kind must be one of {COPY_KINDS}")
        if not organisation.strip():
            raise AppearanceError("the organisation's name is required")
        number = (f"Số: {number_notation.strip()}",) if number_notation and number_notation.strip() else ()
        return cls((kind.upper(), *number, organisation.strip()), field=COPY_FIELD, **options)

    def text(self) -> str:
        return "; ".join([*self.parts, "{date}", "{time}"])

    def lines(self) -> list[str]:
        """The text wrapped at "; " boundaries to fit ``max_width``."""
        out: list[str] = []
        for part in self.text().split("; "):
            candidate = f"{out[-1]}; {part}" if out else part
            if out and _measure(candidate, self.font_size) <= self.max_width:
                out[-1] = candidate
            else:
                if out:
                    out[-1] += ";"
                out.append(part)
        return out

    def place(self, reader: PdfReader, *, field_name: str | None = None) -> Placement:
        lines = self.lines()
        leading = self.font_size * 1.2
        w = max(_measure(line, self.font_size) for line in lines) + 4
        h = leading * len(lines) + 0.4 * self.font_size
        name = field_name or self.field
        prepared = _prepared_field(reader, name) if name else None
        if prepared is not None:
            fw, fh = prepared.box[2] - prepared.box[0], prepared.box[3] - prepared.box[1]
            y = fh - self.font_size
            in_field = [TextElement(line, fw - 2, y - i * leading, self.font_size, align="right")
                        for i, line in enumerate(lines)]
            return Placement(prepared.page, prepared.box, tuple(in_field), existing_field=prepared.field_name,
                             source="field")
        pb = page_box(reader, 0)
        right, top = pb[2] - self.margin_right_mm * MM, pb[3] - self.margin_top_mm * MM
        box = (right - w, top - h, right, top)
        y = h - self.font_size
        elements: list[Element] = []
        for line in lines:
            elements.append(TextElement(line, w - 2, y, self.font_size, align="right"))
            y -= leading
        return Placement(0, box, tuple(elements), source="corner")


def _measure(text: str, size: float) -> float:
    """Width with the date/time placeholders at their printed width (digits are all equal)."""
    return text_width(text.replace("{date}", "00/00/0000").replace("{time}", "00:00:00 +07:00"), size)


# ====================================================================== rendering with pyHanko
@dataclass(frozen=True)
class DecreeStampStyle(TextStampStyle):
    """pyHanko stamp style drawing :class:`Placement` elements. Subclasses ``TextStampStyle``
    only so pyHanko hands it the signing time (``ts``) it writes into the signature."""

    elements: tuple[Element, ...] = ()
    border_width: int = 0
    timestamp_format: str = "%Y-%m-%dT%H:%M:%S%z"
    stamp_text: str = ""

    def create_stamp(self, writer, box, text_params):  # type: ignore[no-untyped-def]
        return DecreeStamp(writer, self, box, text_params or {})


class DecreeStamp(BaseStamp):
    def __init__(self, writer, style: DecreeStampStyle, box: layout.BoxConstraints, text_params: dict) -> None:  # type: ignore[no-untyped-def]
        super().__init__(writer=writer, style=style, box=box)
        self.text_params = text_params
        self._fonts: dict[bool, tuple[str, GlyphAccumulator]] = {}

    def _signing_time(self) -> datetime:
        raw = self.text_params.get("ts")
        moment = datetime.strptime(raw, self.style.timestamp_format) if raw else datetime.now().astimezone()
        return in_vietnam_time(moment)

    def _font(self, bold: bool) -> tuple[str, GlyphAccumulator]:
        if bold not in self._fonts:
            engine = _EmScaledGlyphAccumulator(self.writer, io.BytesIO(_font_bytes(bold)), font_size=10)
            name = "/FB" if bold else "/FR"
            self._fonts[bold] = (name, engine)
        return self._fonts[bold]

    def _render_inner_content(self) -> list[bytes]:
        when = self._signing_time()
        values = {"{date}": when.strftime("%d/%m/%Y"), "{time}": when.strftime("%H:%M:%S +07:00")}
        cmds: list[bytes] = []
        for el in self.style.elements:
            if isinstance(el, MaskElement):
                x0, y0, x1, y1 = el.rect
                cmds.append(b"q 1 1 1 rg %.2f %.2f %.2f %.2f re f Q" % (x0, y0, x1 - x0, y1 - y0))
            elif isinstance(el, ImageElement):
                x0, y0, x1, y1 = el.rect
                image = PdfImage(_prepared_image(el.png, x1 - x0, y1 - y0), writer=self.writer,
                                 box=layout.BoxConstraints(width=x1 - x0, height=y1 - y0))
                drawn = image.render()
                self.import_resources(image.resources)
                cmds.append(b"q 1 0 0 1 %.2f %.2f cm %s Q" % (x0, y0, drawn))
            else:
                text = el.text
                for key, value in values.items():
                    text = text.replace(key, value)
                name, engine = self._font(el.bold)
                engine.font_size = el.size
                shaped = engine.shape(text)
                width = shaped.x_advance * el.size
                x = el.x - {"left": 0, "center": width / 2, "right": width}[el.align]
                self.set_resource(ResourceType.FONT, pdf_name(name), engine.as_resource())
                cmds.append(b"BT %s %g Tf %g %g %g rg %.2f %.2f Td %s ET" % (
                    name.encode(), el.size, *el.color, x, el.baseline, shaped.graphics_ops))
        return cmds


class _EmScaledGlyphAccumulator(GlyphAccumulator):
    """Works around pyHanko 0.38 writing glyph widths (/W) and TJ adjustments in font units,
    which PDF reads as 1/1000 em: wrong for TrueType fonts with 2048 units per em (Liberation,
    Times New Roman), whose text came out stretched. HarfBuzz is asked for 1000-unit positions
    and widths are rescaled, so everything is in the unit PDF expects."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._font_upem = self.units_per_em
        self.units_per_em = 1000
        self.hb_font.scale = (1000, 1000)

    def _get_cid_and_width(self, glyph_id: int) -> tuple[int, int]:
        cached = self._glyphs.get(glyph_id)
        if cached is not None:
            return cached
        cid, width = super()._get_cid_and_width(glyph_id)
        self._glyphs[glyph_id] = scaled = (cid, round(width * 1000 / self._font_upem))
        return scaled


# ====================================================================== images
@lru_cache(maxsize=4)
def _font_bytes(bold: bool) -> bytes:
    """The vendored font without its FontForge timestamp table (FFTM), which fontTools' subsetter
    cannot subset and warns about at every signature."""
    from fontTools.ttLib import TTFont
    font = TTFont(font_path(bold=bold))
    if "FFTM" in font:
        del font["FFTM"]
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _image_size(png: bytes) -> tuple[int, int]:
    return _decoded(png).size


@lru_cache(maxsize=32)
def _decoded(png: bytes) -> Image.Image:
    try:
        img = Image.open(io.BytesIO(png))
        img.load()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise AppearanceError(f"the signature image is not a readable PNG/JPEG: {exc}") from None
    if img.width < 8 or img.height < 8:
        raise AppearanceError("the signature image is too small")
    return img.convert("RGBA") if img.mode not in ("RGBA", "RGB", "L", "LA") else img


def _prepared_image(png: bytes, width_pt: float, height_pt: float) -> Image.Image:
    """The image resampled to ``IMAGE_DPI`` at its printed size (never enlarged)."""
    return _resampled(png, round(width_pt), round(height_pt))


@lru_cache(maxsize=32)
def _resampled(png: bytes, width_pt: int, height_pt: int) -> Image.Image:
    img = _decoded(png)
    target = (max(1, round(width_pt / 72 * IMAGE_DPI)), max(1, round(height_pt / 72 * IMAGE_DPI)))
    if target[0] < img.width and target[1] < img.height:
        img = img.resize(target, Image.Resampling.LANCZOS)
    return img


def _fit(area: Box, png: bytes, margin: float) -> Box:
    """The largest rectangle with the image's aspect ratio centred in ``area``."""
    iw, ih = _image_size(png)
    x0, y0, x1, y1 = area[0] + margin, area[1] + margin, area[2] - margin, area[3] - margin
    scale = min((x1 - x0) / iw, (y1 - y0) / ih)
    w, h = iw * scale, ih * scale
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2

