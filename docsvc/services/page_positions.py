"""Where page 1 of an outgoing document gets its number and date (Decree 30, boxes 3 and 4).

The competent person's certifying signature creates the fields the registry fills at issue
(:mod:`signing.pagefields`). Their place is found on page 1 (``Số:`` and ``ngày … tháng … năm``
left blank by the drafter); a draft without that text gets positions from the registry before it
is signed (``PUT /documents/{id}/page-positions``), kept on the document. Without either, signing
is refused (422 ``issue_fields_missing``): no document is issued without its number and date on
its face.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from docsvc.db.models import Document
from docsvc.domain import policies
from docsvc.domain.identity import Actor
from docsvc.errors import InvalidInput, InvalidState

KINDS = ("number", "date")
MAX_PLACE = 100
#: Before the competent person signs: the signature creates the fields where the positions say.
PLACEABLE = policies.PLACEABLE


def may_place(actor: Actor, doc: Document) -> bool:
    """The agency's registry places the number and date of an outgoing document not yet signed."""
    return bool(policies.may_place_positions(actor, doc))


@dataclass(frozen=True)
class Position:
    """Page (1-based), x and y of the text's baseline start in PDF points from the lower left,
    font size in points."""

    page: int
    x: float
    y: float
    size: float = 13.0

    def check(self, field: str, page_count: int | None) -> None:
        if self.page < 1 or (page_count is not None and self.page > page_count):
            raise InvalidInput(f"{field}: page {self.page} is not a page of the document", {"field": f"{field}.page"})
        if not (0 <= self.x <= 2000 and 0 <= self.y <= 2000):
            raise InvalidInput(f"{field}: x and y are points on the page (0..2000)", {"field": field})
        if not 6 <= self.size <= 30:
            raise InvalidInput(f"{field}: the font size is between 6 and 30 points", {"field": f"{field}.size"})


def positions_dict(number: Position | None, date: Position | None, place: str | None,
                   page_count: int | None) -> dict[str, Any] | None:
    """The stored form of the registry's positions (None clears them); checks every value."""
    if number is None and date is None:
        if place:
            raise InvalidInput("the place is printed with a date position", {"field": "place"})
        return None
    out: dict[str, Any] = {}
    for kind, pos in (("number", number), ("date", date)):
        if pos is not None:
            pos.check(kind, page_count)
            out[kind] = {"page": pos.page, "x": pos.x, "y": pos.y, "size": pos.size}
    place = (place or "").strip()
    if len(place) > MAX_PLACE or any(not ch.isprintable() for ch in place):
        raise InvalidInput(f"the place is at most {MAX_PLACE} printable characters", {"field": "place"})
    if place:
        out["place"] = place
    return out


def issue_fields_request(doc: Document) -> Any:
    """What the certifying signature creates: the stored positions where given, else the places
    found on page 1."""
    from signing.pades import IssueFieldsRequest
    from signing.pagefields import ManualPosition
    given = doc.page_positions or {}

    def manual(kind: str) -> ManualPosition | None:
        p = given.get(kind)
        return ManualPosition(p["page"] - 1, p["x"], p["y"], p["size"]) if p else None
    return IssueFieldsRequest(number=manual("number"), date=manual("date"))


def place_of(doc: Document) -> str | None:
    return (doc.page_positions or {}).get("place")


def require_issue_fields(signed_pdf: bytes) -> None:
    """The signed document must carry the number and date fields (signed before they existed: no)."""
    import io

    from pypdf import PdfReader

    from signing.pagefields import has_issue_fields
    if not has_issue_fields(PdfReader(io.BytesIO(signed_pdf))):
        raise InvalidState("the signed document has no place for its number and date (it was signed before "
                           "the registry's fields existed): return it for a new signature")
