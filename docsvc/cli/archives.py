"""Archive commands: export a dossier, run the archive's daily round, see pending storage locks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click

from docsvc.cli import main
from docsvc.cli.common import CLI_ORIGIN, container
from docsvc.domain.policies import SYSTEM


@main.command("export")
@click.argument("dossier")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="the ZIP to write (default: <FileCode>.zip in the current folder)")
@click.option("--no-renditions", is_flag=True, help="leave out the PDF/A renditions")
def export(dossier: str, out: Path | None, no_renditions: bool) -> None:
    """Export a closed dossier (id or FileCode): originals, PDF/A renditions, Appendix VI XML,
    SHA-256 manifest."""
    c = container()
    result = c.exports.export(SYSTEM, c.dossiers.find(SYSTEM, dossier), origin=CLI_ORIGIN, renditions=not no_renditions)
    target = out or Path(result.filename)
    shutil.move(str(result.path), target)
    click.echo(f"export: {target} ({result.size} bytes, {result.documents} documents, "
               f"{result.renditions} PDF/A renditions, sha256 {result.sha256})")


@main.group()
def archive() -> None:
    """The agency archive's periodic work."""


@archive.command("daily")
def archive_daily() -> None:
    """Run the daily round now: transfer alerts, disposal listing, protection periods."""
    from docsvc.tasks.app import use_container
    from docsvc.tasks.jobs import archive_daily as task
    use_container(container())
    click.echo(json.dumps(task(), ensure_ascii=False, indent=2))


@archive.command("locks")
def archive_locks() -> None:
    """Apply the pending storage locks now; exit status 1 while some could not be applied."""
    from docsvc.tasks.app import use_container
    from docsvc.tasks.jobs import archive_locks as task
    use_container(container())
    report = task()
    click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    raise SystemExit(1 if report["failed"] else 0)
