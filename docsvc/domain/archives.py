"""Dossiers and archives: pure rules (no database, no storage).

Sources: Decree 30/2020/NĐ-CP (dossier plan, dossier metadata of Appendix VI), Law on Archives
33/2024 (transfer to the agency archive, disposal), Law on Protection of State Secrets (protection
periods). Retention periods themselves are data (the retention catalogue), not code.

Dates are Vietnam calendar dates; the instant a storage lock ends is midnight Vietnam time.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from docsvc.errors import InvalidInput, InvalidState, Msg
from docsvc.timeutil import VN_TZ


# ---------------------------------------------------------------- dossier states
class DossierStatus(StrEnum):
    PLANNED = "planned"  # listed in the year's dossier plan, not opened yet
    OPEN = "open"  # documents are being filed
    CLOSED = "closed"  # work ended: metadata fixed, waiting for transfer (or for disposal if short-lived)
    ARCHIVED = "archived"  # transferred to the agency archive: write-once
    DESTROYED = "destroyed"  # content destroyed after appraisal; metadata kept

    @property
    def label_vi(self) -> str:
        return _DOSSIER_STATUS_VI[self]


_DOSSIER_STATUS_VI = {
    DossierStatus.PLANNED: "Trong danh mục", DossierStatus.OPEN: "Đang lập", DossierStatus.CLOSED: "Đã kết thúc",
    DossierStatus.ARCHIVED: "Đã nộp lưu", DossierStatus.DESTROYED: "Đã hủy",
}

DOSSIER_TRANSITIONS: dict[DossierStatus, frozenset[DossierStatus]] = {
    DossierStatus.PLANNED: frozenset({DossierStatus.OPEN}),
    DossierStatus.OPEN: frozenset({DossierStatus.CLOSED}),
    DossierStatus.CLOSED: frozenset({DossierStatus.OPEN, DossierStatus.ARCHIVED, DossierStatus.DESTROYED}),
    DossierStatus.ARCHIVED: frozenset({DossierStatus.DESTROYED}),
    DossierStatus.DESTROYED: frozenset(),
}

#: States in which the archive holds the dossier's documents (archivists may read them).
IN_ARCHIVE = frozenset({DossierStatus.CLOSED, DossierStatus.ARCHIVED})


def check_dossier_transition(current: DossierStatus, target: DossierStatus) -> None:
    if target not in DOSSIER_TRANSITIONS[current]:
        raise InvalidState(f"a dossier cannot go from '{current.value}' to '{target.value}'",
                           {"status": current.value, "wanted": target.value})


class Rights(StrEnum):
    """Chế độ sử dụng (Appendix VI "Rights")."""

    PUBLIC = "public"
    RESTRICTED = "restricted"

    @property
    def label_vi(self) -> str:
        return "Công khai" if self is Rights.PUBLIC else "Hạn chế"


# ---------------------------------------------------------------- retention
@dataclass(frozen=True)
class Retention:
    """A retention period: ``years`` None means permanent (vĩnh viễn)."""

    years: int | None

    def __post_init__(self) -> None:
        if self.years is not None and not 1 <= self.years <= 200:
            raise InvalidInput(Msg("archives.retention_period_1_200_years_permanent",
                                   "a retention period is 1..200 years, or permanent"), {"field": "years"})

    @property
    def permanent(self) -> bool:
        return self.years is None

    @property
    def key(self) -> str:
        """The value indexed for search filters and facets: ``permanent`` or ``10y``."""
        return "permanent" if self.years is None else f"{self.years}y"

    @property
    def label_vi(self) -> str:
        """Appendix VI "Maintenance": ``Vĩnh viễn`` or ``10 năm``."""
        return "Vĩnh viễn" if self.years is None else f"{self.years} năm"

    def longer_than(self, other: Retention) -> bool:
        if self.years is None:
            return other.years is not None
        return other.years is not None and self.years > other.years

    def expires_on(self, work_ended_on: date) -> date | None:
        """First day the record is no longer retained: counted in whole years from the year the
        work ended (kept through 31 December of ``year + N``). None when permanent."""
        if self.years is None:
            return None
        return date(work_ended_on.year + self.years + 1, 1, 1)


#: Closed dossiers kept this long or longer go to the agency archive (shorter ones stay with the unit).
TRANSFER_MIN_YEARS = 5
#: Storage lock of permanent records (they also go to the historical archive within 5 years).
PERMANENT_LOCK_YEARS = 100


def must_transfer(retention: Retention) -> bool:
    return retention.years is None or retention.years >= TRANSFER_MIN_YEARS


def lock_until(retention: Retention, work_ended_on: date) -> datetime:
    """The instant the write-once lock of an archived record ends (midnight, Vietnam time)."""
    end = retention.expires_on(work_ended_on) or date(work_ended_on.year + PERMANENT_LOCK_YEARS, 1, 1)
    return datetime.combine(end, time(0, 0), tzinfo=VN_TZ)


# ---------------------------------------------------------------- transfer
TRANSFER_AFTER_YEARS = 1  # within 1 year after the work ended
CONSTRUCTION_TRANSFER_MONTHS = 3  # construction: within 3 months after final settlement
ALERT_DAYS_AHEAD = 30


def add_months(d: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month0 = d.month - 1 + months
    year, month = d.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def add_years(d: date, years: int) -> date:
    return add_months(d, 12 * years)


def transfer_due_on(*, work_ended_on: date | None, construction: bool, settlement_date: date | None) -> date | None:
    """When a closed dossier must be in the agency archive; None while it cannot be known yet
    (a construction dossier before its final settlement)."""
    if construction:
        return add_months(settlement_date, CONSTRUCTION_TRANSFER_MONTHS) if settlement_date else None
    return add_years(work_ended_on, TRANSFER_AFTER_YEARS) if work_ended_on else None


def transfer_alert_on(due: date) -> date:
    return due - timedelta(days=ALERT_DAYS_AHEAD)


# ---------------------------------------------------------------- dossier identity
NOTATION_RE = re.compile(r"^[0-9A-Za-zĐđ][0-9A-Za-zĐđ.\-]{0,19}$")


def check_notation(notation: str) -> str:
    """Số và ký hiệu hồ sơ, e.g. ``01.TCCB``: letters, digits, dots and dashes, at most 20."""
    value = (notation or "").strip()
    if not NOTATION_RE.match(value):
        raise InvalidInput("a dossier number/notation looks like 01.TCCB (letters, digits, '.' or '-', "
                           "at most 20 characters)", {"field": "notation"})
    return value


def file_code(organ_id: str, year: int, notation: str) -> str:
    """Appendix VI FileCode: the agency's OrganId, the year, the dossier's number/notation."""
    return f"{organ_id}.{year}.{notation}"


# ---------------------------------------------------------------- closing checks
#: Document states that are not a final record (drafts and unregistered receipts) and must be
#: removed from a dossier before it is closed.
DRAFT_STATES = frozenset({"draft", "in_review", "approved", "signed"})
UNREGISTERED_STATES = frozenset({"received"})


@dataclass(frozen=True)
class FiledDocument:
    """What the closing checks need to know about one filed document."""

    document_id: int
    status: str
    dup_key: str | None
    content_sha256: str | None
    sort_date: date | None
    page_amount: int | None


def closing_problems(docs: list[FiledDocument], retention_set: bool) -> list[dict[str, object]]:
    """Everything that prevents closing: no retention, no documents, drafts, duplicates."""
    problems: list[dict[str, object]] = []
    if not retention_set:
        problems.append({"code": "retention_missing", "message": "set the dossier's retention period"})
    if not docs:
        problems.append({"code": "empty", "message": "the dossier holds no document"})
    for d in docs:
        if d.status in DRAFT_STATES:
            problems.append({"code": "draft", "document_id": d.document_id,
                             "message": f"document {d.document_id} is a draft: remove it or issue it first"})
        elif d.status in UNREGISTERED_STATES:
            problems.append({"code": "unregistered", "document_id": d.document_id,
                             "message": f"document {d.document_id} was received but never registered"})
    for kind in ("same_number", "same_content"):
        seen: dict[str, int] = {}
        for d in docs:
            k = d.dup_key if kind == "same_number" else d.content_sha256
            if not k:
                continue
            if k in seen:
                problems.append({"code": "duplicate", "kind": kind, "document_id": d.document_id,
                                 "duplicate_of": seen[k],
                                 "message": f"document {d.document_id} duplicates document {seen[k]}"})
            else:
                seen[k] = d.document_id
    return problems


def chronological(docs: list[FiledDocument]) -> list[FiledDocument]:
    """Order of the documents in the dossier (DocOrdinal): by date, undated last, then by id."""
    return sorted(docs, key=lambda d: (d.sort_date is None, d.sort_date or date.max, d.document_id))


# ---------------------------------------------------------------- disposal
class DisposalStatus(StrEnum):
    PROPOSED = "proposed"  # listed by the nightly task
    REVIEWED = "reviewed"  # the appraisal council gave its opinion
    APPROVED = "approved"  # the head decided to destroy
    REJECTED = "rejected"  # the head refused; the records stay
    DESTROYED = "destroyed"  # content destroyed, destruction record written


DISPOSAL_TRANSITIONS: dict[DisposalStatus, frozenset[DisposalStatus]] = {
    DisposalStatus.PROPOSED: frozenset({DisposalStatus.REVIEWED, DisposalStatus.REJECTED}),
    DisposalStatus.REVIEWED: frozenset({DisposalStatus.APPROVED, DisposalStatus.REJECTED}),
    DisposalStatus.APPROVED: frozenset({DisposalStatus.DESTROYED}),
    DisposalStatus.REJECTED: frozenset(),
    DisposalStatus.DESTROYED: frozenset(),
}
OPEN_DISPOSAL = frozenset({DisposalStatus.PROPOSED, DisposalStatus.REVIEWED, DisposalStatus.APPROVED})


def check_disposal_transition(current: DisposalStatus, target: DisposalStatus) -> None:
    if target not in DISPOSAL_TRANSITIONS[current]:
        raise InvalidState(f"a disposal list cannot go from '{current.value}' to '{target.value}'",
                           {"status": current.value, "wanted": target.value})


def disposable(retention: Retention, work_ended_on: date | None, today: date) -> bool:
    """Past its retention: never true for permanent records."""
    expires = retention.expires_on(work_ended_on) if work_ended_on else None
    return expires is not None and expires <= today


# ---------------------------------------------------------------- declassification
#: Protection periods from the classification date, per secrecy level (Mật, Tối mật, Tuyệt mật).
PROTECTION_YEARS: dict[int, int] = {1: 10, 2: 20, 3: 30}
REVIEW_DAYS_AHEAD = 60


def protection_ends_on(classified_on: date, level: int, periods: dict[int, int] | None = None) -> date:
    years = (periods or PROTECTION_YEARS)[level]
    return add_years(classified_on, years)


def check_extension_years(years: int | None, level: int, periods: dict[int, int] | None = None) -> int:
    """An extension adds at most one full protection period of the level."""
    limit = (periods or PROTECTION_YEARS)[level]
    if years is None or not 1 <= years <= limit:
        raise InvalidInput(f"extend by 1..{limit} years for this level", {"field": "years"})
    return years
