"""Exchange commands: the agency directory from CSV, send and receive now, removable media."""

from __future__ import annotations

from pathlib import Path

import click

from docsvc.cli import main
from docsvc.cli.common import CLI_ORIGIN, container
from docsvc.domain.policies import SYSTEM


@main.group("exchange")
def exchange() -> None:
    """Exchange of edXML packages with other systems (broker, folder, e-mail)."""


@exchange.command("agencies-import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def agencies_import(csv_file: Path) -> None:
    """Import the agency directory from CSV: organ_id,name[,email][,transport][,active] (all rows or none)."""
    report = container().exchange.import_csv(SYSTEM, csv_file.read_text(encoding="utf-8"), origin=CLI_ORIGIN)
    click.echo(f"agencies: {report.created} added, {report.updated} updated")


@exchange.command("send")
def send() -> None:
    """Send the queued packages and status messages that are due now."""
    r = container().exchange.send_pending(limit=10000)
    click.echo(f"sent {r.sent}, retrying {r.retrying}, failed {r.failed}")


@exchange.command("receive")
def receive() -> None:
    """Take what waits on every configured transport."""
    click.echo(f"received {container().exchange.receive(limit=10000)}")


@exchange.command("export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def export(folder: Path) -> None:
    """Write the queued folder-transport messages onto FOLDER (a removable medium), signed."""
    from docsvc.services.exchange.folder import FolderTransport
    r = container().exchange.send_pending(limit=10000, via=FolderTransport(folder))
    click.echo(f"written {r.sent}, retrying {r.retrying}, failed {r.failed}")


@exchange.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def import_(folder: Path) -> None:
    """Import the packages on FOLDER addressed to this deployment's agencies (each verified; tampered
    or unsigned ones are rejected and kept in quarantine)."""
    click.echo(f"imported {container().exchange.receive_folder(folder)}")
