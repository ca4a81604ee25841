"""Commands that set up and run the service: init, serve, worker, beat, config, demo."""

from __future__ import annotations

import json

import click

from docsvc.bootstrap import require_backends
from docsvc.cli import main
from docsvc.cli.common import container


@main.command()
@click.option("--organisation", default=None,
              help='the deployment\'s organisation, naming the internal CA the first time (default: '
                   'DOCSVC_ORGANISATION, else the one top-level agency)')
def init(organisation: str | None) -> None:
    """Create or upgrade the database schema and prepare every backend (idempotent)."""
    from docsvc.services.setup import initialise
    c = container()
    for line in initialise(c, ca_organisation_name=organisation):
        click.echo(f"init: {line}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="gunicorn worker processes (default: 1 embedded, 2 real)")
@click.option("--threads", default=8, show_default=True, type=int)
def serve(host: str, port: int, workers: int | None, threads: int) -> None:
    """Serve the web application and API (gunicorn)."""
    from docsvc.web.server import run_server
    c = container()
    require_backends(c)
    embedded = c.settings.broker_is_embedded
    run_server(c.settings, host=host, port=port, workers=workers or (1 if embedded else 2), threads=threads)


@main.command()
@click.option("--beat/--no-beat", default=False, help="also schedule periodic tasks in this worker")
@click.option("--concurrency", default=2, show_default=True, type=int)
def worker(beat: bool, concurrency: int) -> None:
    """Run a Celery worker (needs DOCSVC_BROKER_URL; without it, this process runs the periodic tasks)."""
    from docsvc.tasks.app import celery_app, use_container
    c = container()
    require_backends(c)
    use_container(c)
    if c.settings.broker_is_embedded:
        from docsvc.tasks.embedded import EmbeddedWorker
        click.echo("worker: no DOCSVC_BROKER_URL: running periodic tasks in this process (Ctrl-C stops)")
        scheduler = EmbeddedWorker()
        scheduler.start()
        try:
            scheduler.join()
        except KeyboardInterrupt:
            scheduler.stop()
        return
    argv = ["worker", "--loglevel", c.settings.log_level.upper(), "--concurrency", str(concurrency)]
    if beat:  # the schedule file belongs in the data folder, not wherever the worker was started
        argv += ["--beat", "--schedule", str(c.settings.data_dir / "celerybeat-schedule")]
    celery_app.worker_main(argv)


@main.command()
def beat() -> None:
    """Run Celery beat (the periodic task scheduler) against DOCSVC_BROKER_URL."""
    from docsvc.tasks.app import celery_app, use_container
    c = container()
    if c.settings.broker_is_embedded:
        raise click.ClickException("beat needs DOCSVC_BROKER_URL; embedded runs schedule inside `docsvc serve`")
    require_backends(c)
    use_container(c)
    celery_app.start(["beat", "--loglevel", c.settings.log_level.upper(),
                      "--schedule", str(c.settings.data_dir / "celerybeat-schedule")])


@main.command()
def config() -> None:
    """Show the effective settings (secrets masked) and the state of each backend."""
    c = container()
    for name, value in c.settings.describe().items():
        click.echo(f"{name}={value}")
    click.echo(json.dumps({s.name: s.to_dict() for s in c.health()}, ensure_ascii=False, indent=2))


@main.command()
def demo() -> None:
    """Seed a demo province, commune, department and users of every role (idempotent)."""
    from docsvc.services.demo import DEMO_PIN, enrol_demo_signers, seed_demo, seed_demo_dossiers
    c = container()
    report = seed_demo(c.identity)
    report.created += seed_demo_dossiers(c.identity, c.dossiers)
    enrolled = enrol_demo_signers(c.db, c.signatures)
    click.echo(f"demo: {report.created} records created; users (password {report.password!r}):")
    for username in report.users:
        click.echo(f"  {username}")
    click.echo(f"signing keys (PIN {DEMO_PIN!r}): {', '.join(enrolled) or 'already enrolled'}")


@main.command()
@click.option("--pending", is_flag=True, help="only index what waits in the outbox")
def reindex(pending: bool) -> None:
    """Rebuild the search index from the database (with a progress bar)."""
    c = container()
    if pending:
        report = c.indexing.drain_all()
        click.echo(f"reindex: {report.done} indexed, {report.failed} failed")
        for error in report.errors[:20]:
            click.echo(f"  {error}", err=True)
        raise SystemExit(1 if report.failed else 0)
    total = c.indexing.document_count()
    with click.progressbar(length=total, label="reindex", show_pos=True, show_eta=True) as bar:
        for _ in c.indexing.reindex_all():
            bar.update(1)
    click.echo(f"reindex: {total} documents indexed into {c.settings.search_url}")
