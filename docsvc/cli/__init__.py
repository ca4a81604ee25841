"""The ``docsvc`` command line: init, serve, worker, users, orgs, demo, audit."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from sqlalchemy.exc import OperationalError

from docsvc.errors import DomainError
from docsvc.settings import ConfigError


def friendly_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Configuration problems and domain errors print one clear line instead of a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            click.echo(f"docsvc: configuration error: {exc}", err=True)
            sys.exit(2)
        except DomainError as exc:
            click.echo(f"docsvc: error: {exc.message}", err=True)
            sys.exit(1)
        except OperationalError as exc:
            first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc).splitlines()[0]
            click.echo(f"docsvc: configuration error: DOCSVC_DATABASE_URL: cannot use the database: {first}",
                       err=True)
            sys.exit(2)

    return wrapper


class Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        return friendly_errors(super().invoke)(ctx)


@click.group(cls=Group)
def main() -> None:
    """docsvc: documents, approvals and digital signatures for government offices."""


def _register() -> None:
    from docsvc.cli import admin, archives, exchange, reorg, reports, runtime, trust  # noqa: F401


_register()
