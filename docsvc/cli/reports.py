"""Reports: the summary the dashboard counts from."""

from __future__ import annotations

import click

from docsvc.cli import main
from docsvc.cli.common import container


@main.group()
def reports() -> None:
    """The reports dashboard."""


@reports.command("rebuild-summary")
def rebuild_summary() -> None:
    """Recompute the dashboard's counts from every document (after an upgrade, or to repair them).

    ``docsvc init`` runs it when the summary has not been built yet; the services keep it since."""
    from docsvc.services.reports import summary
    counted = summary.rebuild(container().db)
    click.echo(f"reports summary rebuilt from {counted} documents")
