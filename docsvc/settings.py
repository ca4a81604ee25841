"""Settings: one immutable object built from ``DOCSVC_*`` environment variables.

Every setting has an embedded default (DESIGN.md): a fresh machine runs on SQLite, a local object
folder, an embedded full-text index and in-process Celery. A malformed value raises
:class:`ConfigError` naming the variable; reachability of the backends is checked by
:func:`docsvc.bootstrap.check_backends` at start.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

PREFIX = "DOCSVC_"

# DOCSVC_* variables that are not settings: the services script's ports, test switches, CLI input.
NOT_SETTINGS = {"DOCSVC_NEW_USER_PASSWORD", "DOCSVC_NEW_PIN"}  # CLI prompts, not settings
NOT_SETTINGS_PREFIXES = (PREFIX + "SVC_", PREFIX + "TEST_", PREFIX + "BENCH_")

SECRECY_POLICIES = ("connected", "isolated")
SIGNATURE_LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")


class ConfigError(Exception):
    """A setting is wrong or its backend unreachable; ``str()`` is one line naming the variable."""

    def __init__(self, variable: str, problem: str) -> None:
        self.variable = variable
        self.problem = problem
        super().__init__(f"{variable}: {problem}")


@dataclass(frozen=True)
class Settings:
    """All configuration of a docsvc process. Field ``x`` is read from ``DOCSVC_X``."""

    data_dir: Path = Path("var")
    database_url: str = ""  # default: sqlite:///<data_dir>/docsvc.sqlite
    storage_url: str = ""  # default: file://<data_dir>/objects ; s3://<bucket> for MinIO/S3
    s3_endpoint: str = ""
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_region: str = "us-east-1"
    s3_timeout_seconds: int = 10  # waiting for an S3 answer; a hung server is a 503 after 2 tries, not a hung request
    search_url: str = ""  # default: embedded:<data_dir>/search.sqlite ; http(s)://... for Elasticsearch
    search_index: str = "docsvc"
    search_timeout_seconds: int = 10  # waiting for an Elasticsearch answer (2 retries): a hung server is a 503
    broker_url: str = ""  # empty: Celery runs tasks in-process (no external broker)
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str = ""  # default: generated once into <data_dir>/secret_key
    encryption_keys: str = ""  # "kid:base64key,kid2:base64key"; default: generated into <data_dir>/keys/kek
    encryption_key_active: str = ""  # default: the last key id listed
    audit_key: str = ""  # "kid:base64key,..." HMAC keys of the audit chain, last = active; default: var/keys/audit_key
    audit_checkpoint_retention_years: int = 10  # compliance retention of the signed audit checkpoints
    secrecy_policy: str = "connected"
    hide_top_secret_subject: bool = True
    signature_level: str = "B-LT"
    tsa_url: str = ""  # default: the service's own timestamp authority <public_url>/pki/tsa
    trust_roots: tuple[Path, ...] = ()
    organisation: str = ""  # the deployment's organisation: names the internal CA (O=...); default: the top agency
    trust_intermediates: tuple[Path, ...] = ()  # CA certificates between an outside root and its signers
    ca_passphrase: str = ""  # protects the internal CA's keys; default: derived from secret_key
    pkcs11_module: str = ""  # org key on a token/HSM when set (e.g. /usr/lib/softhsm/libsofthsm2.so)
    pkcs11_token: str = ""
    pkcs11_pin: str = ""
    pkcs11_key_label: str = ""
    max_upload_mb: int = 100
    max_pages: int = 5000  # pages of one uploaded PDF (counted on its page tree, no page opened); more: 413
    token_ttl_hours: int = 12
    password_hash_memory_kib: int = 65536
    password_hash_time_cost: int = 3
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    login_rate_per_account: str = "10 per minute"  # login attempts per username (right or wrong)
    login_rate_per_address: str = "60 per minute"  # login attempts per client address (offices share NAT)
    ratelimit_storage_url: str = ""  # default: DOCSVC_BROKER_URL when it is redis://, else memory://
    trusted_proxy_hops: int = 0  # reverse proxies whose X-Forwarded-For is trusted (0: use the peer address)
    holidays: str = ""  # extra non-working days "YYYY-MM-DD,..." on top of the built-in calendar
    log_level: str = "INFO"
    outbox_lease_seconds: int = 120  # a worker that dies mid-item leaves it to others after this long
    fetch_allow: str = ""  # hosts / IPs / CIDRs (comma-separated) validation may fetch from besides public addresses
    fetch_timeout_seconds: int = 5  # one OCSP/CRL request; a whole validation gets twice this on the network
    fetch_max_kb: int = 5120  # the largest OCSP/CRL/certificate answer accepted
    outbox_max_failures: int = 3  # failures of an item's own work before it is quarantined
    extract_cpu_seconds: int = 60  # CPU time of one text extraction (child process, OCR included)
    extract_memory_mb: int = 1024  # address space of the extraction process and its OCR tools
    extract_max_pages: int = 2000  # a PDF declaring more pages is not extracted
    extract_max_ocr_pages: int = 50  # scanned pages read by OCR per document
    extract_max_text_mb: int = 5  # extracted text kept per document (millions of characters)
    idempotency_hours: int = 24  # how long an Idempotency-Key is remembered
    local_signer_port: int = 8765  # where the signing page finds docsvc-signer on the leader's computer (127.0.0.1)
    signing_prepare_minutes: int = 10  # a document prepared for a signer-side signature waits this long
    csc_url: str = ""  # remote signing: the provider's CSC API base (…/csc/v2); empty: remote signing off
    csc_client_id: str = ""  # remote signing: this deployment's OAuth2 client at the provider
    csc_client_secret: str = ""
    report_cache_seconds: int = 300  # a computed dashboard is kept this long per reader (0: never kept)
    environment: str = "development"  # "production" refuses generated secrets
    # ---- exchange with other systems (edXML)
    exchange_folder: str = ""  # shared folder / removable medium: packages out to <folder>/<OrganId>/, in from ours
    exchange_broker_url: str = ""  # amqp://... RabbitMQ shared by the deployments of a province
    exchange_default_transport: str = ""  # broker | folder | email for outside recipients the directory leaves open
    exchange_max_attempts: int = 8  # sends of one message before it is marked failed (back-off doubles from 30 s)
    exchange_require_xml_signature: bool = False  # refuse packages whose edXML header carries no XML-DSig
    exchange_mail_inbox: str = ""  # a Maildir the exchange mailbox is delivered to: answers that come by e-mail
    # ---- outbound e-mail (exchange with recipients that have no system; users' notifications)
    smtp_host: str = ""  # empty: no e-mail is sent
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = ""  # the From address, e.g. vanthu@dongdang.langson.gov.vn
    smtp_starttls: bool = False
    smtp_timeout_seconds: int = 10

    # ---------------------------------------------------------------- derived values
    @property
    def database_is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def storage_is_s3(self) -> bool:
        return self.storage_url.startswith("s3://")

    @property
    def search_is_elasticsearch(self) -> bool:
        return self.search_url.startswith(("http://", "https://"))

    @property
    def broker_is_embedded(self) -> bool:
        return not self.broker_url

    @property
    def effective_tsa_url(self) -> str:
        return self.tsa_url or f"{self.public_url.rstrip('/')}/pki/tsa"

    def env_name(self, field_name: str) -> str:
        return PREFIX + field_name.upper()

    def describe(self) -> dict[str, str]:
        """Settings safe to show an operator (secrets masked)."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _SECRET_FIELDS and value:
                value = "***"
            elif f.name in ("database_url", "broker_url", "ratelimit_storage_url", "exchange_broker_url"):
                value = re.sub(r"://([^:/@]*):[^@]*@", r"://\1:***@", str(value))
            out[self.env_name(f.name)] = str(value)
        return out


_SECRET_FIELDS = {"s3_secret_key", "secret_key", "encryption_keys", "ca_passphrase", "pkcs11_pin", "audit_key",
                  "smtp_password"}


# ---------------------------------------------------------------- parsing
def _parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def _parse_int(raw: str, *, zero_ok: bool = False) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ValueError(f"expected a whole number, got {raw!r}") from None
    if value < 0 or (value == 0 and not zero_ok):
        raise ValueError(f"must be {'zero or more' if zero_ok else 'positive'}, got {value}")
    return value


_ZERO_OK = {"trusted_proxy_hops", "report_cache_seconds"}  # whole-number settings where 0 is meaningful


def _parse_paths(raw: str) -> tuple[Path, ...]:
    return tuple(Path(p) for p in re.split(r"[,:]", raw) if p.strip())


def _parse_value(f_type: Any, raw: str, name: str = "") -> Any:
    if f_type in (bool, "bool"):
        return _parse_bool(raw)
    if f_type in (int, "int"):
        return _parse_int(raw, zero_ok=name in _ZERO_OK)
    if f_type in (Path, "Path"):
        return Path(raw)
    if f_type in ("tuple[Path, ...]",):
        return _parse_paths(raw)
    return raw.strip()


def parse_encryption_keys(raw: str) -> dict[str, bytes]:
    """Parse ``kid:base64key,...`` into {key id: 32-byte key}; raises ValueError with the problem."""
    keys: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        kid, sep, b64 = item.partition(":")
        if not sep or not re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", kid):
            raise ValueError(f"entry {item[:12]!r}… is not 'keyid:base64key'")
        try:
            key = base64.b64decode(b64, validate=True)
        except binascii.Error:
            raise ValueError(f"key {kid!r} is not valid base64") from None
        if len(key) != 32:
            raise ValueError(f"key {kid!r} must be 32 bytes (AES-256), got {len(key)}")
        keys[kid] = key
    return keys


_URL_CHECKS: dict[str, Callable[[str], str | None]] = {
    "database_url": lambda v: None
    if v.startswith(("sqlite:///", "postgresql://", "postgresql+psycopg://"))
    else "expected sqlite:///path or postgresql+psycopg://user:pass@host:port/db",
    "storage_url": lambda v: None
    if re.fullmatch(r"file://.+|s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", v)
    else "expected file://<folder> or s3://<bucket> (bucket: 3-63 lowercase letters, digits, dots, dashes)",
    "search_url": lambda v: None
    if re.fullmatch(r"embedded:.+|https?://[^/\s]+/?", v)
    else "expected embedded:<path> or http(s)://host:port of Elasticsearch",
    "broker_url": lambda v: None
    if v == "" or v.startswith(("redis://", "rediss://", "amqp://", "sqla+"))
    else "expected redis://host:port/db (or empty for in-process tasks)",
    "ratelimit_storage_url": lambda v: None
    if re.fullmatch(r"memory://|(redis|rediss|redis\+sentinel|redis\+cluster)://\S+", v)
    else "expected memory:// (one process) or redis://host:port/db (shared by every worker)",
    "public_url": lambda v: None if re.fullmatch(r"https?://[^\s]+", v) else "expected http(s)://host[:port]",
}


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build :class:`Settings` from the environment (and explicit overrides, used by tests)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(Settings):
        name = PREFIX + f.name.upper()
        if f.name in overrides:
            values[f.name] = overrides[f.name]
            continue
        raw = env.get(name)
        if raw is None or raw == "":
            continue
        try:
            values[f.name] = _parse_value(f.type, raw, f.name)
        except ValueError as exc:
            raise ConfigError(name, str(exc)) from None
    unknown = sorted(k for k in env if k.startswith(PREFIX) and k[len(PREFIX):].lower() not in _FIELD_NAMES
                     and k not in NOT_SETTINGS and not k.startswith(NOT_SETTINGS_PREFIXES))
    if unknown:
        raise ConfigError(unknown[0], "unknown setting (misspelt?)")
    settings = Settings(**values)
    return _with_defaults(settings)


_FIELD_NAMES = {f.name for f in fields(Settings)}

#: The data folder of the checkout (or installed tree) this package runs from: ``<project>/var``.
PACKAGE_DATA_DIR = Path(__file__).resolve().parents[1] / "var"


def locate_data_dir(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Path | None:
    """An existing data folder for commands that only read it (``docsvc verify``), wherever they run:
    ``DOCSVC_DATA_DIR`` when set; else ``./var`` when it holds a docsvc data folder; else the ``var``
    folder of the checkout this package runs from; else None. (``DOCSVC_DATA_DIR``'s default is
    ``var`` relative to the working directory, which outside the checkout is nothing.)"""
    env = os.environ if environ is None else environ
    if env.get(PREFIX + "DATA_DIR"):
        return Path(env[PREFIX + "DATA_DIR"])
    for candidate in ((cwd or Path.cwd()) / "var", PACKAGE_DATA_DIR):
        if (candidate / "ca").is_dir() or (candidate / "secret_key").is_file():
            return candidate
    return None


def _with_defaults(s: Settings) -> Settings:
    data = Path(s.data_dir)
    derived: dict[str, Any] = {}
    if not s.database_url:
        derived["database_url"] = f"sqlite:///{data / 'docsvc.sqlite'}"
    if not s.storage_url:
        derived["storage_url"] = f"file://{data / 'objects'}"
    if not s.search_url:
        derived["search_url"] = f"embedded:{data / 'search.sqlite'}"
    if not s.ratelimit_storage_url:
        derived["ratelimit_storage_url"] = s.broker_url if s.broker_url.startswith(("redis://", "rediss://")) \
            else "memory://"
    result = Settings(**{**{f.name: getattr(s, f.name) for f in fields(s)}, **derived})
    _validate(result)
    return result


def _validate(s: Settings) -> None:
    for name, check in _URL_CHECKS.items():
        problem = check(getattr(s, name))
        if problem:
            raise ConfigError(s.env_name(name), f"{problem} (got {getattr(s, name)!r})")
    if s.secrecy_policy not in SECRECY_POLICIES:
        raise ConfigError(s.env_name("secrecy_policy"), f"expected one of {', '.join(SECRECY_POLICIES)}")
    if s.signature_level not in SIGNATURE_LEVELS:
        raise ConfigError(s.env_name("signature_level"), f"expected one of {', '.join(SIGNATURE_LEVELS)}")
    if s.storage_is_s3:
        for name in ("s3_endpoint", "s3_access_key", "s3_secret_key"):
            if not getattr(s, name):
                raise ConfigError(s.env_name(name), "required when DOCSVC_STORAGE_URL is s3://")
        if not re.fullmatch(r"https?://[^/\s]+/?", s.s3_endpoint):
            raise ConfigError(s.env_name("s3_endpoint"), f"expected http(s)://host:port (got {s.s3_endpoint!r})")
    if s.encryption_keys:
        try:
            keys = parse_encryption_keys(s.encryption_keys)
        except ValueError as exc:
            raise ConfigError(s.env_name("encryption_keys"), str(exc)) from None
        if s.encryption_key_active and s.encryption_key_active not in keys:
            raise ConfigError(s.env_name("encryption_key_active"), "names no key of DOCSVC_ENCRYPTION_KEYS")
    if s.audit_key:
        try:
            parse_encryption_keys(s.audit_key)  # the same 'id:base64 of 32 bytes' form as the KEKs
        except ValueError as exc:
            raise ConfigError(s.env_name("audit_key"), str(exc).replace(" (AES-256)", "")) from None
    for name in ("trust_roots", "trust_intermediates"):
        for root in getattr(s, name):
            if not Path(root).is_file():
                raise ConfigError(s.env_name(name), f"no such certificate file: {root}")
    if s.pkcs11_module and not Path(s.pkcs11_module).is_file():
        raise ConfigError(s.env_name("pkcs11_module"), f"no such PKCS#11 module: {s.pkcs11_module}")
    if s.holidays:
        for day in s.holidays.split(","):
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day.strip()):
                raise ConfigError(s.env_name("holidays"), f"expected YYYY-MM-DD dates, got {day!r}")
    if s.environment == "production":
        for name in ("secret_key", "encryption_keys", "audit_key"):
            if not getattr(s, name):
                raise ConfigError(s.env_name(name), "must be set in production (no generated secrets)")
    if s.max_pages < 1:
        raise ConfigError(s.env_name("max_pages"), "expected a positive number of pages")
    for name in ("s3_timeout_seconds", "search_timeout_seconds"):
        if getattr(s, name) < 1:
            raise ConfigError(s.env_name(name), "expected a positive number of seconds")
    if s.outbox_lease_seconds < 1:
        raise ConfigError(s.env_name("outbox_lease_seconds"), "expected a positive number of seconds")
    for name in ("login_rate_per_account", "login_rate_per_address"):
        problem = _rate_problem(getattr(s, name))
        if problem:
            raise ConfigError(s.env_name(name), problem)
    if s.trusted_proxy_hops < 0:
        raise ConfigError(s.env_name("trusted_proxy_hops"), "expected 0 or more proxies")
    if s.fetch_allow:
        from signing.netguard import parse_allow_list
        try:
            parse_allow_list(s.fetch_allow)
        except ValueError as exc:
            raise ConfigError(s.env_name("fetch_allow"), str(exc)) from None
    if s.exchange_default_transport not in ("", "broker", "folder", "email"):
        raise ConfigError(s.env_name("exchange_default_transport"), "expected broker, folder or email")
    if s.exchange_broker_url and not s.exchange_broker_url.startswith(("amqp://", "amqps://", "memory://")):
        raise ConfigError(s.env_name("exchange_broker_url"), "expected amqp://user:pass@host:port/vhost")
    if s.smtp_host and not s.smtp_from:
        raise ConfigError(s.env_name("smtp_from"), "required when DOCSVC_SMTP_HOST is set")
    if s.exchange_max_attempts < 1:
        raise ConfigError(s.env_name("exchange_max_attempts"), "expected 1 or more")
    if not 1 <= s.local_signer_port <= 65535:
        raise ConfigError(s.env_name("local_signer_port"), "expected a TCP port (1-65535)")
    if not 1 <= s.signing_prepare_minutes <= 24 * 60:
        raise ConfigError(s.env_name("signing_prepare_minutes"), "expected 1 to 1440 minutes")
    if s.csc_url:
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", s.csc_url):
            raise ConfigError(s.env_name("csc_url"), f"expected the provider's http(s):// base URL (got {s.csc_url!r})")
        if not (s.csc_client_id and s.csc_client_secret):
            raise ConfigError(s.env_name("csc_client_id"), "remote signing needs DOCSVC_CSC_CLIENT_ID and "
                                                           "DOCSVC_CSC_CLIENT_SECRET with DOCSVC_CSC_URL")
    if s.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(s.env_name("log_level"), "expected DEBUG, INFO, WARNING or ERROR")


def _rate_problem(value: str) -> str | None:
    """A rate such as "10 per minute" or "100/hour" (the ``limits`` notation), or why it is not one."""
    from limits import parse_many  # late: only settings checks need it
    try:
        items = parse_many(value)
    except ValueError:
        items = []
    if len(items) != 1:
        return f"expected a rate such as '10 per minute' or '100/hour', got {value!r}"
    return None
