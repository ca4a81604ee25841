"""Full-text search with filters, facets, highlights and a stable cursor, trimmed to what the caller
may read (the access filter is added inside the search adapter)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field

from docsvc.domain.identity import HIDDEN_SUBJECT, Actor
from docsvc.errors import InvalidInput
from docsvc.web.api import api
from docsvc.web.api.common import StrictModel
from docsvc.web.api.spec import endpoint
from docsvc.web.context import container

_URGENCY = {"normal": 0, "khan": 1, "thuong_khan": 2, "hoa_toc": 3}
_SECRECY = {"none": 0, "mat": 1, "toi_mat": 2, "tuyet_mat": 3}
FacetName = Literal["type", "issuing_body", "year", "direction", "status", "urgency", "secrecy", "dossier",
                    "archive_status", "retention"]


class SearchParams(StrictModel):
    q: str = Field("", max_length=1000, description='words (diacritics optional), "phrases", prefix*')
    type: list[str] | None = Field(None, description="type codes (QĐ, TB, ...) or cong_van")
    issuing_body: list[str] | None = None
    organ_id: list[str] | None = None
    agency: list[str] | None = Field(None, description="OrganIds: records these agencies hold, with the closed "
                                                       "fonds of agencies they took over")
    year: list[int] | None = None
    direction: list[Literal["incoming", "outgoing", "internal"]] | None = None
    status: list[str] | None = None
    urgency: list[Literal["normal", "khan", "thuong_khan", "hoa_toc"]] | None = None
    secrecy: list[Literal["none", "mat", "toi_mat", "tuyet_mat"]] | None = None
    dossier: list[str] | None = None
    retention: list[str] | None = None
    archive_status: list[str] | None = None
    date_from: date | None = Field(None, alias="from")
    date_to: date | None = Field(None, alias="to")
    date_field: Literal["issued", "arrival"] = "issued"
    sort: Literal["relevance", "date_desc", "date_asc"] = "relevance"
    size: int = Field(20, ge=1, le=100)
    cursor: str | None = Field(None, max_length=2000)
    facets: list[FacetName] | None = None


class SuggestParams(StrictModel):
    q: str = Field(min_length=1, max_length=200)
    limit: int = Field(10, ge=1, le=50)


def to_query(p: SearchParams) -> Any:
    from search import InvalidQuery, SearchQuery
    try:
        return SearchQuery(
            q=p.q, type_codes=p.type or (), issuing_body=p.issuing_body or (), organ_id=p.organ_id or (),
            year=p.year or (), direction=p.direction or (), status=p.status or (),
            urgency=[_URGENCY[u] for u in p.urgency or ()], secrecy=[_SECRECY[x] for x in p.secrecy or ()],
            dossier=p.dossier or (), retention=p.retention or (), archive_status=p.archive_status or (),
            date_from=p.date_from, date_to=p.date_to, date_field=p.date_field, sort=p.sort, size=p.size,
            cursor=p.cursor, facets=p.facets or ())
    except InvalidQuery as exc:
        raise InvalidInput(str(exc)) from None


def run_search(actor: Actor, params: SearchParams) -> Any:
    """The search service's result; a malformed query or cursor is the caller's InvalidInput."""
    from search import InvalidCursor, InvalidQuery
    try:
        return container().indexing.search(actor, to_query(params), tuple(params.agency or ()))
    except (InvalidQuery, InvalidCursor) as exc:
        raise InvalidInput(str(exc), {"field": "cursor" if isinstance(exc, InvalidCursor) else "q"}) from None


def hit_dict(hit: Any) -> dict[str, Any]:
    return {"id": int(hit.id), "direction": hit.direction, "number_notation": hit.notation,
            "subject": hit.subject if hit.subject is not None else HIDDEN_SUBJECT,
            "type": {"code": hit.type_code, "name": hit.type_name}, "issuing_body": hit.issuing_body,
            "organ_id": hit.organ_id, "incoming_number": hit.incoming_number,
            "issued_date": hit.issued_date.isoformat() if hit.issued_date else None,
            "arrival_date": hit.arrival_date.isoformat() if hit.arrival_date else None, "year": hit.year,
            "status": hit.status, "secrecy": hit.secrecy, "urgency": hit.urgency,
            "dossiers": list(hit.dossier_ids), "retention": hit.retention, "archive_status": hit.archive_status,
            "highlights": hit.highlights}


@endpoint(api, "/search", tag="search", query=SearchParams,
          summary="Search documents (Vietnamese-aware; only what you may read)")
def search_documents(actor: Actor, query: SearchParams) -> dict:
    """``quyet dinh`` finds "Quyết định"; ``15 qđ ubnd`` finds 15/QĐ-UBND. Facet counts, totals and
    snippets cover only readable documents. Pass ``next_cursor`` back as ``cursor`` for the next page."""
    result = run_search(actor, query)
    return {"total": result.total, "hits": [hit_dict(h) for h in result.hits],
            "facets": {name: [{"value": v.value, "count": v.count} for v in values]
                       for name, values in result.facets.items()},
            "next_cursor": result.next_cursor, "did_you_mean": result.did_you_mean}


@endpoint(api, "/search/suggest", tag="search", query=SuggestParams,
          summary="Type-ahead on subjects and numbers/notations")
def suggest(actor: Actor, query: SuggestParams) -> dict:
    return {"items": [{"id": int(s.id), "number_notation": s.notation, "subject": s.subject,
                       "highlighted": s.highlighted} for s in container().indexing.suggest(actor, query.q,
                                                                                          query.limit)]}
