"""The JSON API under /api/v1."""

from __future__ import annotations

from flask import Blueprint

api = Blueprint("api", __name__, url_prefix="/api/v1")


def register_api_modules() -> Blueprint:
    """Import every module that adds routes to ``api`` (once) and return the blueprint."""
    from docsvc.web.api import (archives, background, batches, documents, identity, incoming, meta, outgoing,  # noqa: F401
                                registers, reports, search)
    return api
