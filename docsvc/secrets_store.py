"""Secrets an embedded deployment generates for itself on first start (never in production)."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from docsvc.settings import ConfigError, Settings, parse_encryption_keys


def _read_or_create(path: Path, make: Callable[[], str]) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    try:
        os.link(tmp, path)  # fails if another process created it first: keep theirs
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()


def secret_key(settings: Settings) -> str:
    """The key that signs download links and web sessions."""
    if settings.secret_key:
        return settings.secret_key
    return _read_or_create(Path(settings.data_dir) / "secret_key", lambda: secrets.token_urlsafe(48))


def encryption_keys(settings: Settings) -> tuple[dict[str, bytes], str]:
    """Key-encryption keys {id: key} and the active id. Generated once for embedded runs."""
    raw = settings.encryption_keys or _read_or_create(
        Path(settings.data_dir) / "keys" / "kek",
        lambda: "k1:" + base64.b64encode(secrets.token_bytes(32)).decode())
    try:
        keys = parse_encryption_keys(raw)
    except ValueError as exc:
        raise ConfigError("DOCSVC_ENCRYPTION_KEYS", str(exc)) from None
    active = settings.encryption_key_active or list(keys)[-1]
    return keys, active


def audit_keys(settings: Settings) -> tuple[dict[str, bytes], str]:
    """HMAC keys of the audit chain {id: key} and the active id (the last listed); generated once
    into the data folder for embedded runs, ``DOCSVC_AUDIT_KEY`` in production. Kept outside the
    database: whoever can write the database alone cannot recompute the chain."""
    raw = settings.audit_key or _read_or_create(
        Path(settings.data_dir) / "keys" / "audit_key",
        lambda: "a1:" + base64.b64encode(secrets.token_bytes(32)).decode())
    try:
        keys = parse_encryption_keys(raw)
    except ValueError as exc:
        raise ConfigError("DOCSVC_AUDIT_KEY", str(exc).replace(" (AES-256)", "")) from None
    if not keys:
        raise ConfigError("DOCSVC_AUDIT_KEY", "no key given (expected 'keyid:base64key')")
    return keys, list(keys)[-1]


def audit_checkpoint_pin(settings: Settings) -> str:
    """The PIN of the PKCS#12 key that signs the audit checkpoints (held by the service)."""
    return _read_or_create(Path(settings.data_dir) / "keys" / "audit-checkpoints.pin",
                           lambda: secrets.token_urlsafe(24))


def ca_passphrase(settings: Settings) -> str:
    """Protects the internal CA's private keys (set DOCSVC_CA_PASSPHRASE in production)."""
    if settings.ca_passphrase:
        return settings.ca_passphrase
    return _read_or_create(Path(settings.data_dir) / "keys" / "ca_passphrase", lambda: secrets.token_urlsafe(32))


def agency_key_pin(settings: Settings, agency_id: int) -> str:
    """The PIN of an agency's PKCS#12 seal key: held by the service, applied by the registry."""
    return _read_or_create(Path(settings.data_dir) / "keys" / "agencies" / f"agency-{agency_id}.pin",
                           lambda: secrets.token_urlsafe(24))


def pending_key_pin(settings: Settings, user_id: int) -> str:
    """The PIN that protects a key issued in bulk for ``user_id`` until the user enrols with a PIN of his own
    (held by the service; removed when the key is re-protected)."""
    return _read_or_create(Path(settings.data_dir) / "keys" / "pending" / f"user-{user_id}.pin",
                           lambda: secrets.token_urlsafe(24))


def forget_pending_key_pin(settings: Settings, user_id: int) -> None:
    (Path(settings.data_dir) / "keys" / "pending" / f"user-{user_id}.pin").unlink(missing_ok=True)
