"""Per-request access to the wired application and to the request's origin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app, request

from docsvc.domain.identity import RequestOrigin

if TYPE_CHECKING:
    from docsvc.bootstrap import Container


def container() -> Container:
    return current_app.extensions["docsvc"]


def origin(channel: str = "api") -> RequestOrigin:
    # remote_addr is the peer's address; X-Forwarded-For counts only behind DOCSVC_TRUSTED_PROXY_HOPS
    # proxies (ProxyFix, installed by create_app), so a client cannot pick the address it is limited by.
    return RequestOrigin(ip=request.remote_addr, user_agent=(request.user_agent.string or None), channel=channel)
