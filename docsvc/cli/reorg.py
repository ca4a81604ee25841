"""``docsvc reorg plan|preview|run|status``: reorganise agencies from the command line (the operator)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from docsvc.cli import main
from docsvc.cli.common import CLI_ORIGIN, container
from docsvc.domain.policies import SYSTEM


def _echo(data: object) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@main.group()
def reorg() -> None:
    """Merge, split or rename agencies (one audited, resumable job)."""


@reorg.command("plan")
@click.argument("plan_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def reorg_plan(plan_file: Path) -> None:
    """Create a plan from a JSON file (kind, effective_date, decision, sources, successors, users, units)."""
    try:
        data = json.loads(plan_file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.UsageError(f"{plan_file}: not a JSON plan ({exc})") from None
    plan = container().reorganisations.create(SYSTEM, data, CLI_ORIGIN)
    click.echo(f"plan {plan['id']} created ({plan['kind']}); see `docsvc reorg preview {plan['id']}`")


@reorg.command("preview")
@click.argument("plan_id", type=int)
def reorg_preview(plan_id: int) -> None:
    """Show everything the plan will move, close, revoke and keep, and its problems."""
    _echo(container().reorganisations.preview(SYSTEM, plan_id))


@reorg.command("run")
@click.argument("plan_id", type=int)
def reorg_run(plan_id: int) -> None:
    """Run or resume the plan in this process (a crash resumes where it stopped)."""
    status = container().reorganisations.start(SYSTEM, plan_id, CLI_ORIGIN, background=False)
    click.echo(f"plan {plan_id}: {status['status']}" + (f" ({status['last_error']})" if status["last_error"] else ""))


@reorg.command("status")
@click.argument("plan_id", type=int)
def reorg_status(plan_id: int) -> None:
    """The plan's state, its progress step by step and the before/after checks."""
    _echo(container().reorganisations.status(SYSTEM, plan_id))


@reorg.command("certs")
@click.argument("agency")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def reorg_certs(agency: str, csv_file: Path) -> None:
    """Issue certificates in bulk for AGENCY (OrganId) from a CSV (name,title,unit,email), in this process."""
    status = container().bulk_certificates.submit(SYSTEM, agency, csv_file.read_text(encoding="utf-8-sig"), CLI_ORIGIN,
                                                  background=False)
    click.echo(f"batch {status['id']}: {status['status']}, {status['done']}/{status['total']} certificates")
