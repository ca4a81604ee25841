"""Bearer-token authentication for the API."""

from __future__ import annotations

from flask import g, request

from docsvc.domain.identity import Actor
from docsvc.errors import Unauthenticated
from docsvc.web.context import container


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_actor() -> Actor:
    """The authenticated caller; raises Unauthenticated (401) without a valid token."""
    actor = g.get("actor")
    if actor is not None:
        return actor
    token = bearer_token()
    if token is None:
        raise Unauthenticated("send 'Authorization: Bearer <token>' (get one from POST /api/v1/auth/token)")
    actor = container().identity.authenticate(token)
    g.actor = actor
    return actor
