"""First-start and upgrade steps run by ``docsvc init`` (idempotent)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from docsvc import secrets_store
from docsvc.db import migrate

if TYPE_CHECKING:
    from docsvc.bootstrap import Container


def initialise(container: Container, *, ca_organisation: str = "docsvc") -> list[str]:
    """Migrate, create secrets, bucket, index and (first time) the internal CA.

    ``ca_organisation`` names the CA (its root is "<name> Root CA"); `docsvc ca init` chooses it
    explicitly before the first `init` when the deployment wants its province's name there."""
    s = container.settings
    Path(s.data_dir).mkdir(parents=True, exist_ok=True)
    done = []
    migrate.upgrade(container.db.engine)
    done.append(f"database schema at {migrate.current_revision(container.db.engine)} ({container.db.dialect})")
    secrets_store.secret_key(s)
    secrets_store.encryption_keys(s)
    done.append("secrets ready" + (" (generated under the data folder)" if not s.secret_key else ""))
    container.store.health()
    done.append(f"object store ready ({s.storage_url})")
    container.search_index.ensure_schema()
    done.append(f"search index ready ({s.search_url})")
    if not container.signatures.ca_exists():
        container.signatures.init_ca(ca_organisation)
        done.append(f"internal certificate authority created for {ca_organisation!r} (URLs under {s.public_url}/pki)")
    else:
        done.append("internal certificate authority ready")
    return done
