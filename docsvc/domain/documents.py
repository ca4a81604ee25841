"""Documents: directions, urgency, states and their transitions, number/notation rules (Decree 30)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from docsvc.errors import InvalidState


class Direction(StrEnum):
    INCOMING = "incoming"  # văn bản đến
    OUTGOING = "outgoing"  # văn bản đi
    INTERNAL = "internal"  # văn bản nội bộ


class Urgency(IntEnum):
    """Độ khẩn. Higher is more urgent; urgent documents jump every queue."""

    NORMAL = 0
    KHAN = 1  # Khẩn
    THUONG_KHAN = 2  # Thượng khẩn
    HOA_TOC = 3  # Hỏa tốc

    @property
    def label_vi(self) -> str:
        return {0: "Thường", 1: "Khẩn", 2: "Thượng khẩn", 3: "Hỏa tốc"}[int(self)]

    @property
    def key(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str | int) -> Urgency:
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            return cls(int(value))
        lowered = value.strip().lower()
        for u in cls:
            if lowered in (u.key, u.label_vi.lower()):
                return u
        raise ValueError(f"unknown urgency {value!r} (normal, khan, thuong_khan, hoa_toc)")


class Status(StrEnum):
    # incoming
    RECEIVED = "received"  # arrived, signatures checked, not yet registered
    REGISTERED = "registered"  # has its incoming number; waits for the leader's instruction
    ASSIGNED = "assigned"  # leader instructed: lead handler, co-handlers, deadline
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    RETURNED = "returned"  # sent back to the sender with a reason
    WITHDRAWN = "withdrawn"  # the sender recalled it
    # outgoing / internal
    DRAFT = "draft"
    IN_REVIEW = "in_review"  # an approval chain is running
    APPROVED = "approved"  # every approval done; waits for the signer
    SIGNED = "signed"  # signed by the competent person; waits for the registry to issue
    ISSUED = "issued"  # numbered, sealed and sent
    RECALLED = "recalled"  # the issuer recalled it: frozen

    @property
    def label_vi(self) -> str:
        return _STATUS_VI[self]


_STATUS_VI = {
    Status.RECEIVED: "Đã tiếp nhận", Status.REGISTERED: "Đã vào sổ", Status.ASSIGNED: "Đã phân công",
    Status.IN_PROGRESS: "Đang xử lý", Status.COMPLETED: "Hoàn thành", Status.RETURNED: "Đã trả lại",
    Status.WITHDRAWN: "Đã thu hồi", Status.DRAFT: "Dự thảo", Status.IN_REVIEW: "Đang trình duyệt",
    Status.APPROVED: "Đã duyệt", Status.SIGNED: "Đã ký", Status.ISSUED: "Đã ban hành", Status.RECALLED: "Đã thu hồi",
}

INITIAL_STATUS = {Direction.INCOMING: Status.RECEIVED, Direction.OUTGOING: Status.DRAFT,
                  Direction.INTERNAL: Status.DRAFT}

# Allowed transitions: (direction, from) → set of targets.
TRANSITIONS: dict[tuple[Direction, Status], frozenset[Status]] = {
    (Direction.INCOMING, Status.RECEIVED): frozenset({Status.REGISTERED, Status.RETURNED, Status.WITHDRAWN}),
    (Direction.INCOMING, Status.REGISTERED): frozenset({Status.ASSIGNED, Status.COMPLETED, Status.WITHDRAWN}),
    (Direction.INCOMING, Status.ASSIGNED): frozenset({Status.IN_PROGRESS, Status.COMPLETED, Status.WITHDRAWN,
                                                      Status.ASSIGNED}),
    (Direction.INCOMING, Status.IN_PROGRESS): frozenset({Status.COMPLETED, Status.WITHDRAWN, Status.ASSIGNED}),
    (Direction.INCOMING, Status.COMPLETED): frozenset({Status.IN_PROGRESS, Status.WITHDRAWN}),
}
for _d in (Direction.OUTGOING, Direction.INTERNAL):
    TRANSITIONS.update({
        (_d, Status.DRAFT): frozenset({Status.IN_REVIEW}),
        (_d, Status.IN_REVIEW): frozenset({Status.APPROVED, Status.DRAFT, Status.IN_REVIEW}),
        (_d, Status.APPROVED): frozenset({Status.SIGNED, Status.DRAFT}),
        (_d, Status.SIGNED): frozenset({Status.ISSUED, Status.DRAFT}),
        (_d, Status.ISSUED): frozenset({Status.RECALLED}),
    })

# States in which a new content version may be uploaded (which restarts any approval).
EDITABLE = frozenset({Status.DRAFT, Status.IN_REVIEW, Status.APPROVED, Status.RECEIVED})
FROZEN = frozenset({Status.RECALLED, Status.WITHDRAWN, Status.RETURNED})


# States in which a leader may (re-)instruct and assign an incoming document.
ASSIGNABLE = frozenset({Status.REGISTERED, Status.ASSIGNED, Status.IN_PROGRESS})


def can_transition(direction: Direction, current: Status, target: Status) -> bool:
    return target in TRANSITIONS.get((direction, current), frozenset())


def check_transition(direction: Direction, current: Status, target: Status) -> None:
    if not can_transition(direction, current, target):
        raise InvalidState(f"a {direction.value} document cannot go from '{current.value}' to '{target.value}'",
                           {"status": current.value, "wanted": target.value})


# ---------------------------------------------------------------- number and notation
def format_number(number: int) -> str:
    """Numbers below 10 carry a leading zero: 5 → '05'."""
    if number < 1:
        raise ValueError("document numbers start at 1")
    return f"{number:02d}"


def notation_for(*, type_code: str | None, agency_abbr: str, unit_abbr: str | None = None) -> str:
    """Ký hiệu: ``QĐ-UBND`` for typed documents, ``UBND-VP`` for a công văn (no type abbreviation)."""
    if type_code:
        return f"{type_code}-{agency_abbr}"
    if not unit_abbr:
        raise ValueError("a công văn's notation needs the drafting unit's abbreviation")
    return f"{agency_abbr}-{unit_abbr}"


def number_notation(number: int | str | None, notation: str | None) -> str:
    """``15/QĐ-UBND``; either part may be missing on documents received from outside."""
    if number is None or number == "":
        return notation or ""
    text = format_number(number) if isinstance(number, int) else str(number)
    return f"{text}/{notation}" if notation else text


_NOTATION_FULL = re.compile(r"^\s*(\d{1,11})\s*/\s*([^\s/].{0,29})\s*$")


CODE_NUMBER_MAX, CODE_NOTATION_MAX = 11, 30  # Appendix VI: CodeNumber (11), CodeNotation (30)


def split_number_notation(text: str) -> tuple[str | None, str | None]:
    """'15/QĐ-UBND' → ('15', 'QĐ-UBND'); anything else is kept as a notation."""
    m = _NOTATION_FULL.match(text)
    if m:
        return m.group(1), m.group(2).strip()
    text = text.strip()
    return None, (text or None)


def duplicate_key(code_number: str | None, code_notation: str | None, issuing_body: str | None) -> str | None:
    """Key for the duplicate warning: same number, notation and issuing body (case, spacing and
    diacritics of the notation normalised, leading zeros of the number ignored).
    A number that is not numeric (``W126/BC-SGDĐT``) is kept whole as the notation: it still has a
    key when it carries a digit, so such documents are checked for duplicates too."""
    if not code_notation:
        return None
    body = _fold(issuing_body or "")
    if not code_number:
        return f"|{_fold(code_notation)}|{body}" if any(c.isdigit() for c in code_notation) else None
    return f"{int(code_number)}|{_fold(code_notation)}|{body}"


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[\s\-_/.]+", "-", text.strip().lower())


@dataclass(frozen=True)
class SeriesKey:
    """A numbering series: registers restart at 01 every 1 January per agency and series."""

    agency_id: int
    register: str  # "incoming" | "outgoing"
    series: str  # "normal" | "secret" | "copy"
    year: int


def outgoing_series(secrecy: int, is_copy: bool) -> str:
    """Secret documents and copies each have their own series (DOMAIN.md)."""
    if is_copy:
        return "copy"
    return "secret" if secrecy > 0 else "normal"


def incoming_series(secrecy: int) -> str:
    return "secret" if secrecy > 0 else "normal"
