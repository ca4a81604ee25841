"""First-start and upgrade steps run by ``docsvc init`` (idempotent)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from docsvc import secrets_store
from docsvc.db import migrate
from docsvc.services.reports import summary as report_summary

if TYPE_CHECKING:
    from docsvc.bootstrap import Container


def ca_organisation(container: Container, explicit: str | None = None) -> str | None:
    """The deployment's organisation, which names the internal CA (O=..., "<name> Root CA"):
    ``explicit`` (``--organisation``), else DOCSVC_ORGANISATION, else the name of the one top-level
    agency in the database; None when there is none (or several): the CA then waits to be named."""
    for name in (explicit, container.settings.organisation):
        if name and name.strip():
            return name.strip()
    from sqlalchemy import select

    from docsvc.db.models import Organisation
    with container.db.read() as s:
        tops = list(s.execute(select(Organisation.name).where(Organisation.parent_id.is_(None),
                                                              Organisation.kind != "unit")
                              .order_by(Organisation.id).limit(2)).scalars())
    return tops[0] if len(tops) == 1 else None


def ensure_ca(container: Container, explicit: str | None = None) -> str | None:
    """Create the internal CA named after the deployment's organisation if it does not exist yet;
    returns the name used, or None when the CA exists or no name is known."""
    if container.signatures.ca_exists():
        return None
    name = ca_organisation(container, explicit)
    if name is None:
        return None
    container.signatures.init_ca(name)
    return name


def initialise(container: Container, *, ca_organisation_name: str | None = None) -> list[str]:
    """Migrate, create secrets, bucket, index and (first time) the internal CA, named after the
    deployment's organisation (see :func:`ca_organisation`); without one the CA is created later by
    `docsvc ca init`, or by `docsvc demo` after it seeds the demo province."""
    s = container.settings
    Path(s.data_dir).mkdir(parents=True, exist_ok=True)
    done = []
    migrate.upgrade(container.db.engine)
    done.append(f"database schema at {migrate.current_revision(container.db.engine)} ({container.db.dialect})")
    with container.db.read() as session:
        summary_ready = report_summary.is_ready(session)
    if not summary_ready:
        counted = report_summary.rebuild(container.db)
        done.append(f"reports summary built ({counted} documents)")
    secrets_store.secret_key(s)
    secrets_store.encryption_keys(s)
    done.append("secrets ready" + (" (generated under the data folder)" if not s.secret_key else ""))
    container.store.health()
    done.append(f"object store ready ({s.storage_url})")
    container.search_index.ensure_schema()
    done.append(f"search index ready ({s.search_url})")
    existed = container.signatures.ca_exists()
    created = ensure_ca(container, ca_organisation_name)
    if created:
        done.append(f"internal certificate authority created for {created!r} (URLs under {s.public_url}/pki)")
    elif existed:
        done.append("internal certificate authority ready")
    else:
        done.append("internal certificate authority not created yet: name the organisation (DOCSVC_ORGANISATION, "
                    "`docsvc init --organisation NAME` or `docsvc ca init --organisation NAME`), or run `docsvc demo`")
    return done
