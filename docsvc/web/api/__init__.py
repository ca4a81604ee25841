"""The JSON API under /api/v1."""

from __future__ import annotations

from flask import Blueprint

api = Blueprint("api", __name__, url_prefix="/api/v1")


def register_api_modules() -> Blueprint:
    """Import every module that adds routes to ``api`` (once) and return the blueprint."""
    from docsvc.web.api import (  # noqa: F401
        archives,
        background,
        batches,
        documents,
        exchange,
        identity,
        incoming,
        meta,
        outgoing,
        registers,
        reorganisations,
        reports,
        search,
        signing,
    )
    return api
