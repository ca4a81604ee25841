"""Two deployments (each its own database, object store and index) exchanging through one transport."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import update

from tests.conftest import make_test_settings, real_backend_overrides, running_container
from tests.helpers import ApiClient

# Deployment B is another province: its Sở Nội vụ has this code (A's own SNV keeps 000.00.02.H41).
B_SNV = "000.00.02.H42"
A_COMMUNE = "000.00.31.H41"


def random_organ_id(suffix: str) -> str:
    """A 13-character code no other test uses (queues on a shared broker are per OrganId)."""
    import secrets
    import string
    pick = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(7))
    return f"{pick[:3]}.{pick[3:5]}.{pick[5:7]}.{suffix}"


@dataclass
class Deployment:
    container: Any
    api: ApiClient

    @property
    def exchange(self) -> Any:
        return self.container.exchange


@contextmanager
def two_deployments(backend: str, tmp_path: Path, pki: Any, request: Any, *, b_snv: str = B_SNV,
                    a_commune: str = A_COMMUNE, **exchange: Any) -> Iterator[tuple[Deployment, Deployment]]:
    """A and B with the demo organisation seeded in each; in B the SNV is renamed to ``b_snv`` (in
    A the commune may be renamed too: a shared broker's queues are named by OrganId).
    Kicks are off: the test drives sending and receiving (both containers share one process)."""
    from docsvc.db.models import Organisation
    from docsvc.services.demo import seed_demo
    from docsvc.web.app import create_app
    with ExitStack() as stack:
        out = []
        for name in ("a", "b"):
            if backend == "embedded":
                path = tmp_path / f"{name}.sqlite"
                shutil.copy(request.getfixturevalue("sqlite_template"), path)
                url = f"sqlite:///{path}"
            else:
                dbs = request.getfixturevalue("postgres_databases")
                db_name = dbs.create()
                stack.callback(dbs.drop, db_name)
                url = dbs.url_of(db_name)
            values = real_backend_overrides() if backend == "real" else {}
            settings = make_test_settings(tmp_path / name, url, pki, **values, **exchange)
            c = stack.enter_context(running_container(settings, pki))
            c.exchange.kick = None
            demo = seed_demo(c.identity)
            app = create_app(container=c)
            app.config["TESTING"] = True
            out.append(Deployment(c, ApiClient(app.test_client(), demo.password)))
        with out[1].container.db.write() as s:
            s.execute(update(Organisation).where(Organisation.organ_id == "000.00.02.H41").values(organ_id=b_snv))
        if a_commune != A_COMMUNE:
            with out[0].container.db.write() as s:
                s.execute(update(Organisation).where(Organisation.organ_id == A_COMMUNE).values(organ_id=a_commune))
        yield out[0], out[1]


@contextmanager
def smtp_server(handler: Any) -> Iterator[int]:
    """A real SMTP server (aiosmtpd) on a free loopback port, delivering to ``handler``: its port."""
    from aiosmtpd.controller import Controller

    from bench.stack import free_port
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
