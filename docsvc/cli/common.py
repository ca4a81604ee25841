"""Helpers shared by CLI commands."""

from __future__ import annotations

from docsvc.bootstrap import Container, build_container
from docsvc.domain.identity import RequestOrigin

CLI_ORIGIN = RequestOrigin(ip=None, channel="cli")


def container() -> Container:
    return build_container()
