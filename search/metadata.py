"""Metadata read from a Vietnamese official document's first page (Decree 30/2020 layout).

Pure: the caller gives page 1 as lines (text plus, for born-digital PDFs, their horizontal position
from :func:`pdf_lines`; OCR text gives lines without positions) and the known document type names.
The boxes of Appendix I read here:

- box 1/2 (top left): governing body and issuing body — the issuing body is the last header line
  of the left column before the number;
- box 3: ``Số: 15/QĐ-UBND``; box 4: ``<place>, ngày 07 tháng 12 năm 2026``;
- box 5: the type name (``QUYẾT ĐỊNH``) and the subject under it, or ``V/v …`` for a công văn;
- box 7: the signer block (bottom right): competence (TM./KT./Q./TL./TUQ.), title, name last;
- box 10: urgency (HỎA TỐC / THƯỢNG KHẨN / KHẨN) and secrecy marks (MẬT / TỐI MẬT / TUYỆT MẬT).

Every field comes with a confidence in [0, 1]; the review grid marks those under
:data:`LOW_CONFIDENCE`.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

LOW_CONFIDENCE = 0.7
FIELDS = ("number_notation", "issued_date", "issuing_body", "type", "subject", "urgency", "secrecy",
          "signer_name", "signer_position")


@dataclass(frozen=True)
class Line:
    """One line of page 1; ``x`` is its left edge as a fraction of the page width (None: unknown),
    ``right`` its right edge likewise."""

    text: str
    x: float | None = None
    right: float | None = None

    @property
    def centre(self) -> float | None:
        return None if self.x is None or self.right is None else (self.x + self.right) / 2


@dataclass
class Metadata:
    values: dict[str, Any] = field(default_factory=dict)
    confidence: dict[str, float] = field(default_factory=dict)

    def set(self, name: str, value: Any, confidence: float) -> None:
        if value in (None, ""):
            return
        self.values[name] = value
        self.confidence[name] = round(confidence, 2)

    def to_dict(self) -> dict[str, Any]:
        return {"fields": {k: (v.isoformat() if isinstance(v, date) else v) for k, v in self.values.items()},
                "confidence": dict(self.confidence),
                "low_confidence": sorted(k for k in FIELDS if self.confidence.get(k, 0.0) < LOW_CONFIDENCE)}


# ---------------------------------------------------------------- lines of a PDF's first page
def pdf_lines(data: bytes) -> list[Line]:
    """Lines of page 1 of a born-digital PDF with their horizontal extent (pypdf text visitor).
    Text drawn at the same height on the left and on the right (box 1 beside the national motto)
    gives two lines, not one."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if not reader.pages:
        return []
    page = reader.pages[0]
    width = float(page.mediabox.width) or 595.0
    pieces: list[tuple[float, float, str]] = []

    def visit(text: str, cm: Any, tm: Any, font_dict: Any, font_size: Any) -> None:
        if not text.strip():
            return
        x = float(tm[4]) * float(cm[0]) + float(cm[4])
        y = float(tm[5]) * float(cm[3]) + float(cm[5])
        pieces.append((round(y, 0), x, text.replace("\n", " ")))

    page.extract_text(visitor_text=visit)
    rows: dict[float, list[tuple[float, str]]] = {}
    for y, x, text in pieces:
        key = next((k for k in rows if abs(k - y) <= 2.0), y)
        rows.setdefault(key, []).append((x, text))
    lines: list[Line] = []
    for y in sorted(rows, reverse=True):
        parts = sorted(rows[y])
        group: list[tuple[float, str]] = []
        for x, text in parts:  # a wide gap between pieces of one row starts a new line
            if group and x - _end(group[-1], width) > 0.12 * width:
                lines.append(_line(group, width))
                group = []
            group.append((x, text))
        if group:
            lines.append(_line(group, width))
    return lines


def _end(piece: tuple[float, str], width: float) -> float:
    return piece[0] + 0.5 * 12 * len(piece[1])  # an estimate: half an em per character at 12 pt


def _line(group: list[tuple[float, str]], width: float) -> Line:
    text = re.sub(r"\s+", " ", "".join(t for _, t in group)).strip()
    return Line(text, group[0][0] / width, min(1.0, _end(group[-1], width) / width))


def text_lines(text: str) -> list[Line]:
    """Lines of page 1 of plain (OCR) text, without positions. OCR often joins the two columns of
    one height into one line ("SỞ Y TẾ CỘNG HÒA XÃ HỘI...", "- Như trên; CHỦ TỊCH"): such lines
    are split where the right column's text begins."""
    first = text.split("\f", 1)[0].replace("Ð", "Đ")
    out: list[Line] = []
    for raw in first.splitlines():
        raw = re.sub(r"\s+", " ", raw).strip()
        if raw:
            out.extend(Line(part) for part in _split_columns(raw))
    return out


def _split_columns(line: str) -> list[str]:
    folded = fold(line)
    for anchor, back in _MOTTO_ANCHORS:  # OCR may garble the first words of the motto: anchor on the rest
        at = folded.find(anchor)
        words_before = len(folded[:at].split()) - back if at >= 0 else -1
        if words_before > 0:
            cut = _cut_at_words(line, words_before)
            return [p for p in (line[:cut].strip(), line[cut:].strip()) if p]
    m = _NUMBER.search(line)
    if m and _DATE.search(line[m.end():]):
        return [line[:m.end()].strip(), line[m.end():].strip()]
    words = line.split()
    if any(c.islower() for c in line):
        for k in range(1, len(words)):
            tail = " ".join(words[k:])
            head = " ".join(words[:k])
            if tail.upper() == tail and any(c.isalpha() for c in tail) and any(c.islower() for c in head) \
                    and (_COMPETENCE.match(tail) or fold(tail).split()[0] in _TITLE_FIRST):
                return [head, tail]
    return [line]


def _cut_at_words(line: str, n: int) -> int:
    """The character index in ``line`` where its word number ``n`` (0-based) starts."""
    spans = [m.start() for m in re.finditer(r"\S+", line)]
    return spans[n] if n < len(spans) else len(line)


# ---------------------------------------------------------------- reading
_MOTTO = ("cong hoa xa hoi chu nghia viet nam", "doc lap tu do hanh phuc")
_MOTTO_ANCHORS = (("cong hoa xa hoi", 0), ("xa hoi chu nghia", 2), ("doc lap tu do", 0), ("tu do hanh phuc", 2))
_NUMBER = re.compile(r"\bS[ốo]\s*[:;.]?\s*(\d{1,11})\s*/\s*([0-9A-ZĐa-zđ][0-9A-Za-zĐđÀ-ỹ\-./]{0,29})")
_NUMBER_ANY = re.compile(r"\bS[ốo]\s*[:;]\s*([0-9A-Za-zĐđÀ-ỹ][0-9A-Za-zĐđÀ-ỹ\-./]{0,41})")
_DATE = re.compile(r"ng[àa]y\s+(\d{1,2})\s+th[áa]ng\s+(\d{1,2})\s+n[ăa]m\s+(\d{4})", re.IGNORECASE)
_VV = re.compile(r"^\s*V/v\.?\s*", re.IGNORECASE)
_COMPETENCE = re.compile(r"^(TM|KT|Q|TL|TUQ)\s*\.", re.IGNORECASE)
_STOP_SUBJECT = ("kinh gui", "can cu", "thuc hien", "theo de nghi", "xet de nghi", "dieu 1")
URGENCY_MARKS = (("hoa toc", 3), ("thuong khan", 2), ("khan", 1))
SECRECY_MARKS = (("tuyet mat", 3), ("toi mat", 2), ("mat", 1))
_TITLE_FIRST = ("chu", "giam", "truong", "pho", "bi", "chanh", "thu", "bo", "tong", "cuc", "vu", "hieu", "chi",
                "q", "kt", "tm", "tl", "tuq")
_TITLE_WORDS = ("chu tich", "giam doc", "truong", "pho", "bi thu", "chanh", "thu truong", "bo truong",
                "tong cuc", "cuc truong", "vu truong", "hieu truong", "chi cuc")


def fold(text: str) -> str:
    """Lower case without diacritics (đ → d), single spaces, no punctuation."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9/]+", " ", text).strip()


def read_metadata(lines: Sequence[Line], type_names: Mapping[str, str]) -> Metadata:
    """The fields of Appendix VI read from page 1. ``type_names``: type name (Quyết định) → code (QĐ);
    the công văn has code ``cong_van``."""
    meta = Metadata()
    positioned = any(line.x is not None for line in lines)
    folded = [fold(line.text) for line in lines]
    number_at = _read_number(lines, meta, type_names)
    date_at = _read_date(lines, meta)
    _read_marks(lines, folded, meta)
    header_end = min(i for i in (number_at, date_at, len(lines)) if i is not None)
    _read_body(lines, folded, header_end, meta, positioned)
    title_at = _read_type(lines, folded, max(header_end, number_at or 0, date_at or 0), meta, type_names)
    _read_subject(lines, folded, title_at, meta)
    _read_signer(lines, folded, meta, positioned)
    return meta


def _read_number(lines: Sequence[Line], meta: Metadata, type_names: Mapping[str, str]) -> int | None:
    for i, line in enumerate(lines[:25]):
        m = _NUMBER.search(line.text)
        if m:
            notation = m.group(2).rstrip(".-/")
            meta.set("number_notation", f"{int(m.group(1)):02d}/{notation}", 0.95)
            return i
        m = _NUMBER_ANY.search(line.text)
        if m and "/" in m.group(1):
            meta.set("number_notation", m.group(1).rstrip(".-"), 0.6)
            return i
    return None


def _read_date(lines: Sequence[Line], meta: Metadata) -> int | None:
    """Box 4 only: a date in the body ("Căn cứ Luật ... ngày 19 tháng 02 năm 2025") is not the
    document's date, so the search stops where the body begins."""
    for i, line in enumerate(lines[:25]):
        if fold(line.text).startswith(_STOP_SUBJECT):
            return None
        m = _DATE.search(line.text)
        if m:
            try:
                meta.set("issued_date", date(int(m.group(3)), int(m.group(2)), int(m.group(1))), 0.95)
            except ValueError:
                continue
            return i
    return None


def _read_marks(lines: Sequence[Line], folded: Sequence[str], meta: Metadata) -> None:
    """Box 10: a line that is only the mark (a stamp or a bold word), anywhere on page 1."""
    for text in folded:
        for mark, level in URGENCY_MARKS:
            if text == mark and "urgency" not in meta.values:
                meta.set("urgency", level, 0.9)
        for mark, level in SECRECY_MARKS:
            if text == mark and "secrecy" not in meta.values:
                meta.set("secrecy", level, 0.9)
    meta.values.setdefault("urgency", 0)
    meta.confidence.setdefault("urgency", 0.8)
    meta.values.setdefault("secrecy", 0)
    meta.confidence.setdefault("secrecy", 0.8)


def _is_mark(text: str) -> bool:
    return text in {m for m, _ in URGENCY_MARKS} | {m for m, _ in SECRECY_MARKS}


def _read_body(lines: Sequence[Line], folded: Sequence[str], header_end: int, meta: Metadata,
               positioned: bool) -> None:
    """Boxes 1-2: the left column's header lines; the issuing body is the last (box 2)."""
    header: list[str] = []
    for line, text in zip(lines[:header_end], folded[:header_end], strict=True):
        if not text or any(text.startswith(m) for m in _MOTTO) or _is_mark(text) or set(text) <= {"-", " "}:
            continue
        if positioned and line.x is not None and line.x > 0.45:
            continue  # the right column: motto, place and date
        if line.text.upper() != line.text:
            continue  # box 1-2 are in capitals
        header.append(line.text.strip(" -_"))
    if header:
        meta.set("issuing_body", header[-1], 0.9 if positioned else 0.75)


def _read_type(lines: Sequence[Line], folded: Sequence[str], start: int, meta: Metadata,
               type_names: Mapping[str, str]) -> int | None:
    names = sorted(((fold(name), code) for name, code in type_names.items()), key=lambda t: -len(t[0]))
    for i in range(start, min(len(lines), start + 12)):
        text, raw = folded[i], lines[i].text
        if raw.upper() != raw:
            continue
        for name, code in names:
            if code != "cong_van" and text == name:
                meta.set("type", code, 0.95)
                return i
    for i in range(start, min(len(lines), start + 12)):
        if _VV.match(lines[i].text):
            meta.set("type", "cong_van", 0.9)
            return i - 1
    notation = str(meta.values.get("number_notation", ""))
    prefix = notation.split("/", 1)[1].split("-", 1)[0] if "/" in notation else ""
    if prefix and prefix in set(type_names.values()):
        meta.set("type", prefix, 0.6)
    return None


def _read_subject(lines: Sequence[Line], folded: Sequence[str], title_at: int | None, meta: Metadata) -> None:
    if title_at is None:
        return
    parts: list[str] = []
    for line, text in zip(lines[title_at + 1:title_at + 6], folded[title_at + 1:title_at + 6], strict=True):
        if not text or any(text.startswith(s) for s in _STOP_SUBJECT) or set(line.text.strip()) <= {"-", "_"} \
                or _is_mark(text) or _DATE.search(line.text):
            break
        if meta.values.get("type") == "cong_van" and not parts and not _VV.match(line.text):
            continue
        parts.append(_VV.sub("", line.text).strip())
    subject = " ".join(p for p in parts if p).strip()
    if subject:
        subject = subject[0].upper() + subject[1:]
        meta.set("subject", subject[:500], 0.85 if len(parts) <= 3 else 0.6)


def _looks_like_name(text: str) -> bool:
    words = text.split()
    return 2 <= len(words) <= 5 and all(w[:1].isupper() and (len(w) == 1 or not w[1:].isupper()) for w in words) \
        and not any(c.isdigit() for c in text) and ":" not in text and "," not in text


def _read_signer(lines: Sequence[Line], folded: Sequence[str], meta: Metadata, positioned: bool) -> None:
    """Box 7: the last name-like line on the right; the title line(s) above it in capitals."""
    candidates = [i for i, line in enumerate(lines)
                  if _looks_like_name(line.text.strip()) and (not positioned or line.x is None or line.x > 0.4)]
    if not candidates:
        return
    at = candidates[-1]
    meta.set("signer_name", lines[at].text.strip(), 0.9 if positioned else 0.75)
    for j in range(at - 1, max(-1, at - 8), -1):
        raw, text, x = lines[j].text.strip(), folded[j], lines[j].x
        if positioned and x is not None and x < 0.4:
            continue
        if raw and raw.upper() == raw and not _COMPETENCE.match(raw) and any(w in text for w in _TITLE_WORDS):
            meta.set("signer_position", raw, 0.85 if positioned else 0.7)
            return
