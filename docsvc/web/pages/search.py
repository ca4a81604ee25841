"""Search: Vietnamese-aware full text with filters, facet counts and highlights, trimmed by the
search service to what the user may read."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from docsvc.domain.identity import Actor
from docsvc.errors import NotFound
from docsvc.web.api.search import SearchParams, hit_dict, run_search
from docsvc.web.api.spec import _args_for, parse_model
from docsvc.web.context import container
from docsvc.web.pages.base import page_actor, page_blueprint
from docsvc.web.pages.nav import NavItem

bp = page_blueprint("search", __name__)
NAV = [NavItem("search.search", _l("Search"), order=45)]

FACETS = ["direction", "type", "year", "status", "urgency", "secrecy", "issuing_body", "archive_status", "retention",
          "dossier"]
FILTERS = ("q", "type", "year", "direction", "status", "urgency", "secrecy", "issuing_body", "archive_status",
           "retention", "dossier", "from", "to", "sort")
_LEVELS = {"urgency": ["normal", "khan", "thuong_khan", "hoa_toc"], "secrecy": ["none", "mat", "toi_mat", "tuyet_mat"]}


def _filters() -> MultiDict:
    return MultiDict([(k, v) for k in FILTERS for v in request.args.getlist(k) if v.strip()])


def toggle_url(args: MultiDict, name: str, value: Any) -> str:
    """The search URL with ``name=value`` added, or removed when it is already chosen."""
    value = _facet_param(name, value)
    pairs = [(k, v) for k, v in args.items(multi=True) if k != "cursor"]
    pairs = [p for p in pairs if p != (name, value)] if (name, value) in pairs else pairs + [(name, value)]
    return "?" + urlencode(pairs)


def _facet_param(name: str, value: Any) -> str:
    """Facets count urgency and secrecy by level number; filters take their names."""
    if name in _LEVELS and str(value).isdigit():
        return _LEVELS[name][int(value)]
    return str(value)


def _named_dossiers(actor: Actor, facets: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The dossier facet by FileCode; a dossier the user may not see is left out of it (its
    documents the user reads still count in the other facets)."""
    names: dict[str, str] = {}
    for v in facets.get("dossier", []):
        try:
            names[str(v.value)] = container().dossiers.get(actor, int(v.value))["file_code"]
        except (NotFound, ValueError):
            continue
    if "dossier" in facets:
        facets = {**facets, "dossier": [v for v in facets["dossier"] if str(v.value) in names]}
    return facets, names


@bp.get("/search")
def search() -> str:
    args = _filters()
    params = parse_model(SearchParams, {**_args_for(SearchParams, args), "facets": FACETS,
                                        "cursor": request.args.get("cursor") or None})
    actor = page_actor()
    result = run_search(actor, params)
    facets, dossiers = _named_dossiers(actor, result.facets)
    return render_template("search.html", args=args, params=params, total=result.total,
                           hits=[hit_dict(h) for h in result.hits], facets=facets, dossier_names=dossiers,
                           next_cursor=result.next_cursor, did_you_mean=result.did_you_mean,
                           toggle_url=toggle_url, facet_param=_facet_param,
                           next_url="?" + urlencode([*args.items(multi=True), ("cursor", result.next_cursor or "")]))
