"""Values exchanged with a ``SearchIndex``: what is indexed, who asks, what is asked, what comes back.

Access model (docsvc computes it, the index enforces it): each document carries a secrecy level
(0 none, 1 Mật, 2 Tối mật, 3 Tuyệt mật) and a list of reader tokens (``user:12``, ``unit:5``,
``grant:user:7``...). A ``Principal`` carries a clearance and the tokens that describe the caller.
The caller may read a document when ``secrecy <= clearance`` and the two token sets intersect.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any, Literal

from search.errors import InvalidDocument, InvalidQuery
from search.vietnamese import nfc

DIRECTIONS = ("incoming", "outgoing", "internal")
MAX_SECRECY = 3
MAX_URGENCY = 3
MAX_PAGE_SIZE = 100
MAX_QUERY_CHARS = 1000
#: Longer full texts are cut before indexing (both adapters cut at the same place).
MAX_INDEXED_TEXT_CHARS = 2_000_000

Sort = Literal["relevance", "date_desc", "date_asc"]
SORTS: tuple[str, ...] = ("relevance", "date_desc", "date_asc")
DateField = Literal["issued", "arrival"]
DATE_FIELDS = {"issued": "issued_date", "arrival": "arrival_date"}

#: facet name -> stored field it counts
FACET_FIELDS: dict[str, str] = {
    "type": "type_code",
    "issuing_body": "issuing_body",
    "year": "year",
    "direction": "direction",
    "status": "status",
    "urgency": "urgency",
    "secrecy": "secrecy",
    "dossier": "dossier_ids",
    "archive_status": "archive_status",
    "retention": "retention",
}
#: stored fields that hold several values
MULTI_VALUED = frozenset({"dossier_ids", "dossier_codes", "readers"})
#: fields whose value depends on the caller's clearance: derived from the dossiers holding a document,
#: each caller sees them computed from the dossiers they may know of (``IndexDocument.archive_by_clearance``)
GRADED_FIELDS = frozenset({"archive_status", "retention", "dossier_ids"})
CLEARANCES = tuple(range(MAX_SECRECY + 1))


def graded_field(name: str, clearance: int) -> str:
    """The stored column of a graded field as a caller of ``clearance`` sees it (others: ``name``)."""
    return f"{name}_{clearance}" if name in GRADED_FIELDS else name
INT_FIELDS = frozenset({"number", "incoming_number", "year", "secrecy", "urgency"})


def _opt_str(value: Any, name: str, max_len: int = 1000) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise InvalidDocument(f"{name} must be a string, got {type(value).__name__}")
    value = nfc(value.strip())
    if len(value) > max_len:
        raise InvalidDocument(f"{name} is longer than {max_len} characters")
    return value or None


def _opt_int(value: Any, name: str, lo: int = 0, hi: int = 2**31 - 1) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidDocument(f"{name} must be an integer, got {value!r}")
    if not lo <= value <= hi:
        raise InvalidDocument(f"{name} must be between {lo} and {hi}, got {value}")
    return value


def _opt_date(value: Any, name: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidDocument(f"{name} must be a datetime.date, got {type(value).__name__}")
    return value


def _str_tuple(values: Any, name: str) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, (str, bytes)):
        raise InvalidDocument(f"{name} must be a list of strings, not a single string")
    out = []
    for v in values:
        s = _opt_str(v, name, 200)
        if s is not None and s not in out:
            out.append(s)
    return tuple(out)


@dataclass(frozen=True)
class DossierRef:
    """A dossier holding a document. A caller learns of it (its id in hits, facets and filters, its code
    in text search) only when cleared to ``secrecy``, on top of reading the document."""

    id: str
    code: str | None = None
    secrecy: int = 0

    def __post_init__(self) -> None:
        dossier_id = _opt_str(self.id, "dossier id", 200)
        if dossier_id is None:
            raise InvalidDocument("a dossier needs a non-empty id")
        object.__setattr__(self, "id", dossier_id)
        object.__setattr__(self, "code", _opt_str(self.code, "dossier code", 200))
        object.__setattr__(self, "secrecy", _opt_int(self.secrecy, "dossier secrecy", 0, MAX_SECRECY))


@dataclass(frozen=True)
class ArchiveFacts:
    """A document's archive status and retention as computed from the dossiers one clearance may see."""

    archive_status: str | None = None
    retention: str | None = None


@dataclass(frozen=True, kw_only=True)
class DocumentMetadata:
    """Metadata indexed with a document, filterable, and returned in its hits."""

    direction: str
    number: int | None = None
    notation: str | None = None
    type_code: str | None = None
    type_name: str | None = None
    incoming_number: int | None = None
    organ_id: str | None = None
    issuing_body: str | None = None
    issued_date: date | None = None
    arrival_date: date | None = None
    year: int | None = None
    status: str | None = None
    secrecy: int = 0
    urgency: int = 0
    dossier_ids: Sequence[str] = ()
    retention: str | None = None
    archive_status: str | None = None
    signer: str | None = None


@dataclass(frozen=True, kw_only=True)
class IndexDocument(DocumentMetadata):
    """One document as the index sees it (keyword arguments only). Texts are normalised to NFC.

    ``content_indexed=False`` (secret content kept offline by the deployment policy): the full text
    is dropped here, so no adapter can store it. ``subject_indexed=False`` (a subject docsvc masks):
    the subject is neither searchable nor returned; hits carry ``subject=None``."""

    id: str
    subject: str = ""
    org_id: str | None = None
    full_text: str = ""
    dossier_codes: Sequence[str] = ()
    readers: Sequence[str] = ()
    #: names and codes of the agencies the record comes from (searchable text, never returned in hits)
    provenance: Sequence[str] = ()
    content_indexed: bool = True
    subject_indexed: bool = True
    updated_at: datetime | None = None
    #: the dossiers holding the document with their secrecy; when given, ``dossier_ids`` and
    #: ``dossier_codes`` are taken from it (without it, every dossier is known to every reader)
    dossiers: Sequence[DossierRef] = ()
    #: (archive status, retention) seen at clearance 0, 1, 2, 3 (without it: the two fields, at every level)
    archive_by_clearance: Sequence[ArchiveFacts] = ()

    def __post_init__(self) -> None:
        put = object.__setattr__
        self._init_dossiers()
        doc_id = _opt_str(self.id, "id", 200)
        if doc_id is None:
            raise InvalidDocument("a document needs a non-empty id")
        put(self, "id", doc_id)
        if self.direction not in DIRECTIONS:
            raise InvalidDocument(f"direction must be one of {DIRECTIONS}, got {self.direction!r}")
        for name in ("org_id", "type_code", "type_name", "notation", "organ_id", "issuing_body",
                     "status", "retention", "archive_status", "signer"):
            put(self, name, _opt_str(getattr(self, name), name))
        for name in ("number", "incoming_number"):
            put(self, name, _opt_int(getattr(self, name), name))
        put(self, "secrecy", _opt_int(self.secrecy, "secrecy", 0, MAX_SECRECY))
        put(self, "urgency", _opt_int(self.urgency, "urgency", 0, MAX_URGENCY))
        for name in ("issued_date", "arrival_date"):
            put(self, name, _opt_date(getattr(self, name), name))
        year = _opt_int(self.year, "year", 1900, 9999)
        if year is None:
            known = self.issued_date or self.arrival_date
            year = known.year if known else None
        put(self, "year", year)
        put(self, "readers", _str_tuple(self.readers, "readers"))
        put(self, "provenance", _str_tuple(self.provenance, "provenance"))
        for name in ("subject", "full_text"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise InvalidDocument(f"{name} must be a string")
            put(self, name, nfc(value))
        if len(self.subject) > 2000:
            raise InvalidDocument("subject is longer than 2000 characters")
        if not self.content_indexed:
            put(self, "full_text", "")
        elif len(self.full_text) > MAX_INDEXED_TEXT_CHARS:
            put(self, "full_text", self.full_text[:MAX_INDEXED_TEXT_CHARS])
        if not self.subject_indexed:
            put(self, "subject", "")
        updated = self.updated_at or datetime.now(UTC)
        if not isinstance(updated, datetime):
            raise InvalidDocument("updated_at must be a datetime")
        updated = updated if updated.tzinfo else updated.replace(tzinfo=UTC)
        if updated.year < 1970:
            raise InvalidDocument("updated_at must be after 1970 (it versions the document)")
        put(self, "updated_at", updated)

    def _init_dossiers(self) -> None:
        put = object.__setattr__
        if self.dossiers:  # (dossier_ids and dossier_codes given beside it are replaced)
            refs = tuple(self.dossiers)
            if not all(isinstance(d, DossierRef) for d in refs):
                raise InvalidDocument("dossiers must be DossierRef values")
            put(self, "dossier_ids", tuple(dict.fromkeys(d.id for d in refs)))
            put(self, "dossier_codes", tuple(dict.fromkeys(d.code for d in refs if d.code)))
            put(self, "dossiers", refs)
        else:  # dossiers without a secrecy: known to every reader, their codes too
            put(self, "dossier_ids", _str_tuple(self.dossier_ids, "dossier_ids"))
            put(self, "dossier_codes", _str_tuple(self.dossier_codes, "dossier_codes"))
        levels = tuple(self.archive_by_clearance)
        if levels:
            if len(levels) != len(CLEARANCES) or not all(isinstance(f, ArchiveFacts) for f in levels):
                raise InvalidDocument(f"archive_by_clearance has one ArchiveFacts per clearance {CLEARANCES}")
            levels = tuple(ArchiveFacts(_opt_str(f.archive_status, "archive_status"),
                                        _opt_str(f.retention, "retention")) for f in levels)
            put(self, "archive_status", levels[-1].archive_status)  # the unrestricted view
            put(self, "retention", levels[-1].retention)
        put(self, "archive_by_clearance", levels)

    def dossier_ids_at(self, clearance: int) -> tuple[str, ...]:
        """Ids of the dossiers a reader of this clearance may know of."""
        if not self.dossiers:
            return tuple(self.dossier_ids)
        return tuple(dict.fromkeys(d.id for d in self.dossiers if d.secrecy <= clearance))

    def dossier_codes_of_secrecy(self, secrecy: int) -> tuple[str, ...]:
        """Codes of the dossiers of exactly this secrecy (searchable by callers cleared to it)."""
        if not self.dossiers:  # codes given apart from their dossiers: known to every reader
            return tuple(self.dossier_codes) if secrecy == 0 else ()
        return tuple(dict.fromkeys(d.code for d in self.dossiers if d.code and d.secrecy == secrecy))

    def dossier_refs(self) -> tuple[DossierRef, ...]:
        """Every dossier with its secrecy (0 for dossiers given by id only)."""
        return tuple(self.dossiers) or tuple(DossierRef(i) for i in self.dossier_ids)

    def archive_at(self, clearance: int) -> ArchiveFacts:
        if self.archive_by_clearance:
            return self.archive_by_clearance[clearance]
        return ArchiveFacts(self.archive_status, self.retention)

    def graded_values(self) -> dict[str, Any]:
        """Every graded field at every clearance, by stored column (``graded_field``)."""
        out: dict[str, Any] = {}
        for c in CLEARANCES:
            facts = self.archive_at(c)
            out[graded_field("archive_status", c)] = facts.archive_status
            out[graded_field("retention", c)] = facts.retention
            out[graded_field("dossier_ids", c)] = list(self.dossier_ids_at(c))
        return out

    @property
    def version(self) -> int:
        """Microseconds since the epoch of ``updated_at``: an older version never overwrites a newer."""
        assert self.updated_at is not None
        return int(self.updated_at.timestamp() * 1_000_000)


@dataclass(frozen=True)
class Principal:
    """The caller of a search: clearance 0..3 and the reader tokens that describe them."""

    user_id: str | int | None
    clearance: int
    tokens: frozenset[str]

    def __post_init__(self) -> None:
        if isinstance(self.clearance, bool) or not isinstance(self.clearance, int) \
                or not 0 <= self.clearance <= MAX_SECRECY:
            raise InvalidQuery(f"clearance must be an integer 0..{MAX_SECRECY}, got {self.clearance!r}")
        if isinstance(self.tokens, str) or not all(isinstance(t, str) for t in self.tokens):
            raise InvalidQuery("principal tokens must be a set of strings")
        object.__setattr__(self, "tokens", frozenset(self.tokens))

    def can_read(self, secrecy: int, readers: Iterable[str]) -> bool:
        """The one access rule every adapter applies inside its queries."""
        return secrecy <= self.clearance and not self.tokens.isdisjoint(readers)


def _filter_values(value: Any, name: str, kind: type) -> tuple[Any, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, (str, int)) else list(value)
    out: list[Any] = []
    for v in items:
        if kind is int:
            if isinstance(v, bool) or not isinstance(v, int):
                raise InvalidQuery(f"filter {name} takes integers, got {v!r}")
        elif not isinstance(v, str) or not v.strip():
            raise InvalidQuery(f"filter {name} takes non-empty strings, got {v!r}")
        else:
            v = nfc(v.strip())
        if v not in out:
            out.append(v)
    if len(out) > 100:
        raise InvalidQuery(f"filter {name} takes at most 100 values")
    return tuple(out)


#: SearchQuery filter -> (stored field, value type)
FILTER_FIELDS: dict[str, tuple[str, type]] = {
    "type_codes": ("type_code", str),
    "issuing_body": ("issuing_body", str),
    "year": ("year", int),
    "direction": ("direction", str),
    "status": ("status", str),
    "urgency": ("urgency", int),
    "secrecy": ("secrecy", int),
    "dossier": ("dossier_ids", str),
    "retention": ("retention", str),
    "archive_status": ("archive_status", str),
    "organ_id": ("organ_id", str),
    "org_id": ("org_id", str),
    "number": ("number", int),
    "incoming_number": ("incoming_number", int),
}


@dataclass(frozen=True)
class SearchQuery:
    """A search request. Every filter takes one value or a list (any of them matches).

    ``q`` syntax: words (all must match, in subject, full text or metadata; diacritics optional),
    ``"quoted phrases"``, ``word*`` for a prefix. A word with inner punctuation such as
    ``15/QĐ-UBND`` is matched as a phrase. Dates are inclusive; ``date_field`` picks the issued date
    or the arrival date for the range and for date sorting."""

    q: str = ""
    type_codes: Any = ()
    issuing_body: Any = ()
    year: Any = ()
    direction: Any = ()
    status: Any = ()
    urgency: Any = ()
    secrecy: Any = ()
    dossier: Any = ()
    retention: Any = ()
    archive_status: Any = ()
    organ_id: Any = ()
    org_id: Any = ()
    number: Any = ()
    incoming_number: Any = ()
    date_from: date | None = None
    date_to: date | None = None
    date_field: DateField = "issued"
    sort: Sort = "relevance"
    size: int = 20
    cursor: str | None = None
    facets: Sequence[str] = ()
    facet_size: int = 20
    highlight: bool = True

    def __post_init__(self) -> None:
        put = object.__setattr__
        if not isinstance(self.q, str):
            raise InvalidQuery("q must be a string")
        if len(self.q) > MAX_QUERY_CHARS:
            raise InvalidQuery(f"the query is longer than {MAX_QUERY_CHARS} characters")
        put(self, "q", nfc(self.q).strip())
        for name, (_, kind) in FILTER_FIELDS.items():
            put(self, name, _filter_values(getattr(self, name), name, kind))
        for name in ("date_from", "date_to"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, datetime) or not isinstance(value, date)):
                raise InvalidQuery(f"{name} must be a date")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidQuery("date_from is after date_to")
        if self.date_field not in DATE_FIELDS:
            raise InvalidQuery(f"date_field must be one of {tuple(DATE_FIELDS)}")
        if self.sort not in SORTS:
            raise InvalidQuery(f"sort must be one of {SORTS}, got {self.sort!r}")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or not 1 <= self.size <= MAX_PAGE_SIZE:
            raise InvalidQuery(f"size must be an integer 1..{MAX_PAGE_SIZE}")
        if isinstance(self.facet_size, bool) or not isinstance(self.facet_size, int) \
                or not 1 <= self.facet_size <= 200:
            raise InvalidQuery("facet_size must be an integer 1..200")
        facets = tuple(dict.fromkeys([self.facets] if isinstance(self.facets, str) else self.facets))
        unknown = [f for f in facets if f not in FACET_FIELDS]
        if unknown:
            raise InvalidQuery(f"unknown facet(s) {unknown}; known: {sorted(FACET_FIELDS)}")
        put(self, "facets", facets)
        if self.cursor is not None and not isinstance(self.cursor, str):
            raise InvalidQuery("cursor must be a string")

    @property
    def effective_sort(self) -> str:
        """Without text to rank by, "relevance" means newest first."""
        return "date_desc" if self.sort == "relevance" and not self.q else self.sort

    @property
    def date_column(self) -> str:
        return DATE_FIELDS[self.date_field]

    def term_filters(self) -> list[tuple[str, tuple[Any, ...]]]:
        """(stored field, accepted values) for every filter that is set."""
        return [(FILTER_FIELDS[name][0], getattr(self, name))
                for name in FILTER_FIELDS if getattr(self, name)]

    def fingerprint(self) -> dict[str, Any]:
        """What a cursor is bound to: everything but the cursor and the page size."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in ("cursor", "size", "facets", "facet_size", "highlight"):
                continue
            value = getattr(self, f.name)
            out[f.name] = value.isoformat() if isinstance(value, date) else value
        out["sort"] = self.effective_sort
        return out


@dataclass(frozen=True)
class FacetValue:
    value: str | int
    count: int


@dataclass(frozen=True, kw_only=True)
class SearchHit(DocumentMetadata):
    """One readable document. ``highlights`` maps "subject", "notation" and "full_text" to HTML
    fragments (original text, HTML-escaped, matches wrapped in ``<mark>``)."""

    id: str
    score: float | None
    subject: str | None
    dossier_ids: tuple[str, ...] = ()
    highlights: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchResult:
    hits: list[SearchHit]
    total: int
    facets: dict[str, list[FacetValue]]
    next_cursor: str | None
    #: the query with a word found in no readable document replaced by the likeliest readable one
    #: (offered when the words as typed found nothing)
    did_you_mean: str | None = None


@dataclass(frozen=True)
class Suggestion:
    """A type-ahead proposal: a readable document whose subject or number/notation matches."""

    id: str
    notation: str | None
    subject: str | None
    highlighted: str


# ------------------------------------------------------------------ stored form (both adapters)
#: fields kept with each indexed document and returned in hits
STORED_FIELDS = ("id", "direction", "subject", "number", "notation", "type_code", "type_name",
                 "incoming_number", "organ_id", "issuing_body", "issued_date", "arrival_date",
                 "year", "status", "secrecy", "urgency", "signer", "org_id", "subject_indexed", "content_indexed")


def stored_fields(doc: IndexDocument) -> dict[str, Any]:
    """JSON-friendly values of a document kept by the index (never the reader tokens). The graded
    fields are kept per clearance (``graded``) and trimmed by ``hit_from_stored``."""
    out: dict[str, Any] = {}
    for name in STORED_FIELDS:
        value = getattr(doc, name)
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        out[name] = value
    out["graded"] = doc.graded_values()
    return out


def hit_from_stored(stored: Mapping[str, Any], score: float | None,
                    highlights: dict[str, list[str]], clearance: int) -> SearchHit:
    """Build a hit from what ``stored_fields`` kept (as read back from either engine), with the
    dossier ids, archive status and retention a caller of ``clearance`` may know."""
    def as_date(v: Any) -> date | None:
        return date.fromisoformat(v[:10]) if v else None

    graded = stored.get("graded") or {}

    return SearchHit(
        id=stored["id"], score=score, direction=stored["direction"],
        subject=stored.get("subject") if stored.get("subject_indexed", True) else None,
        number=stored.get("number"), notation=stored.get("notation"),
        type_code=stored.get("type_code"), type_name=stored.get("type_name"),
        incoming_number=stored.get("incoming_number"), organ_id=stored.get("organ_id"),
        issuing_body=stored.get("issuing_body"), issued_date=as_date(stored.get("issued_date")),
        arrival_date=as_date(stored.get("arrival_date")), year=stored.get("year"),
        status=stored.get("status"), secrecy=stored.get("secrecy") or 0,
        urgency=stored.get("urgency") or 0,
        dossier_ids=tuple(graded.get(graded_field("dossier_ids", clearance)) or ()),
        retention=graded.get(graded_field("retention", clearance)),
        archive_status=graded.get(graded_field("archive_status", clearance)),
        signer=stored.get("signer"), highlights=highlights)
