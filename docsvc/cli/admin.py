"""Administration commands: organisations, users, audit."""

from __future__ import annotations

import json

import click

from docsvc.cli import main
from docsvc.cli.common import CLI_ORIGIN, container
from docsvc.domain.policies import SYSTEM


@main.group()
def orgs() -> None:
    """Organisations: provinces, departments, communes and their units."""


@orgs.command("add")
@click.option("--kind", required=True, type=click.Choice(["province", "department", "commune", "unit"]))
@click.option("--name", required=True)
@click.option("--abbreviation", "--abbr", required=True, help="e.g. UBND, SNV, VP")
@click.option("--organ-id", default=None, help="13-character agency code, e.g. 000.00.00.H41 (agencies)")
@click.option("--parent", default=None, help="parent id, OrganId or abbreviation")
def orgs_add(kind: str, name: str, abbreviation: str, organ_id: str | None, parent: str | None) -> None:
    """Add an organisation or unit."""
    c = container()
    parent_id = c.identity.find_organisation(parent).id if parent else None
    org = c.identity.add_organisation(SYSTEM, kind=kind, name=name, abbreviation=abbreviation,
                                      organ_id=organ_id, parent_id=parent_id, origin=CLI_ORIGIN)
    click.echo(f"organisation {org.id} created: {org.name} ({org.kind}, {org.organ_id or org.abbreviation})")


@orgs.command("list")
def orgs_list() -> None:
    """List organisations as a tree."""
    views = container().identity.list_organisations()
    children: dict[int | None, list] = {}
    for v in views:
        children.setdefault(v.parent_id, []).append(v)

    def show(parent: int | None, depth: int) -> None:
        for v in children.get(parent, []):
            click.echo(f"{'  ' * depth}{v.id:>4}  {v.kind:<10} {v.abbreviation:<6} {v.organ_id or '':<13}  {v.name}")
            show(v.id, depth + 1)

    show(None, 0)


@main.group()
def users() -> None:
    """Users, their roles, clearance and units."""


@users.command("add")
@click.argument("username")
@click.option("--full-name", required=True)
@click.option("--agency", required=True, help="agency id, OrganId or abbreviation")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(["clerk", "officer", "unit_head", "leader", "archivist", "admin"]))
@click.option("--clearance", default="none", type=click.Choice(["none", "mat", "toi_mat", "tuyet_mat"]))
@click.option("--unit", "units", multiple=True, help="unit id or abbreviation (repeatable)")
@click.option("--position", default="")
@click.option("--email", default=None)
@click.password_option(envvar="DOCSVC_NEW_USER_PASSWORD", help="asked for when not given")
def users_add(username: str, full_name: str, agency: str, roles: tuple[str, ...], clearance: str,
              units: tuple[str, ...], position: str, email: str | None, password: str) -> None:
    """Add a user."""
    c = container()
    agency_view = c.identity.find_organisation(agency)
    unit_ids = [_unit_id(c, agency_view.id, u) for u in units]
    user = c.identity.add_user(SYSTEM, username=username, password=password, full_name=full_name,
                               agency_id=agency_view.id, roles=roles, clearance=clearance, unit_ids=unit_ids,
                               position=position, email=email, origin=CLI_ORIGIN)
    click.echo(f"user {user.id} created: {user.username} ({', '.join(user.roles)}; clearance {user.clearance})")


def _unit_id(c, agency_id: int, key: str) -> int:  # type: ignore[no-untyped-def]
    if key.isdigit():
        return int(key)
    for org in c.identity.list_organisations():
        if org.kind == "unit" and org.agency_id == agency_id and org.abbreviation == key:
            return org.id
    raise click.BadParameter(f"no unit {key!r} in agency {agency_id}", param_hint="--unit")


@users.command("list")
def users_list() -> None:
    """List users."""
    for u in container().identity.list_users(SYSTEM):
        click.echo(f"{u.id:>4}  {u.username:<16} {','.join(u.roles):<22} {u.clearance:<10} {u.full_name}")


@main.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
def audit_verify(as_json: bool) -> None:
    """Check every row against the keyed chain and the signed checkpoints in the object store.

    Exit status: 0 intact, 1 tampering found (the rows are named), 3 the check could not be
    completed (object store unreachable)."""
    from storage import StorageError
    c = container()
    try:
        result = c.audit_checkpoints.verify()
    except StorageError as exc:
        message = f"cannot verify the audit log: the object store holding the checkpoints is not usable: {exc}"
        click.echo(json.dumps({"status": "unverified", "error": message}) if as_json else f"docsvc: {message}",
                   err=not as_json)
        raise SystemExit(3) from None
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        raise SystemExit(0 if result.ok else 1)
    report = result.report
    for problem in report.problems:
        click.echo(f"TAMPERED: {problem.message}")
    latest = result.latest
    if latest is None:
        click.echo("no signed checkpoint yet: the rows are protected by the keyed chain only "
                   "(run `docsvc audit checkpoint`)")
    else:
        click.echo(f"{len(result.checkpoints)} signed checkpoint(s); the latest covers rows 1-{latest.seq} "
                   f"({latest.time.isoformat()})")
    span = result.unanchored
    if span is not None and latest is not None:
        click.echo(f"rows {span[0]}-{span[1]} are after the latest checkpoint: verified by the keyed chain only")
    if report.ok:
        click.echo(f"audit log intact: {report.checked} events verified")
    else:
        click.echo(f"audit log TAMPERED: {len(report.problems)} problem(s) in {report.checked} events", err=True)
        raise SystemExit(1)


@audit.command("checkpoint")
def audit_checkpoint() -> None:
    """Write a signed, time-stamped checkpoint of the chain's head now (the periodic task does it
    every 10 minutes). Exit status 1 when the rows since the last checkpoint do not verify."""
    checkpoint = container().audit_checkpoints.create()
    if checkpoint is None:
        click.echo("no new audit events since the latest checkpoint: nothing to do")
    else:
        click.echo(f"checkpoint written: rows 1-{checkpoint.seq} ({checkpoint.count} events), "
                   f"{checkpoint.time.isoformat()}, {checkpoint.name}")
