"""The one place that reads configuration and wires adapters into services."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from docsvc import secrets_store
from docsvc.db.engine import make_engine
from docsvc.db.uow import Database
from docsvc.services.actions import ActionService
from docsvc.services.approval import ApprovalService, chains
from docsvc.services.archives import hooks as archive_hooks
from docsvc.services.audit import KEYS_INFO, AuditKeys
from docsvc.services.calendar import CalendarService
from docsvc.services.deadlines import DeadlineService
from docsvc.services.dispatch import DISPATCH_INFO, TaskDispatch
from docsvc.services.documents import DocumentService
from docsvc.services.enrolment import KeyEnrolment
from docsvc.services.files import FileStore
from docsvc.services.idempotency import IdempotencyService
from docsvc.services.identity import IdentityService
from docsvc.services.inbox import InboxService
from docsvc.services.incoming import IncomingService
from docsvc.services.indexing import IndexingService
from docsvc.services.login_throttle import LoginThrottle
from docsvc.services.notifications import NotificationService
from docsvc.services.outgoing import OutgoingService
from docsvc.services.passwords import Passwords
from docsvc.services.quarantine import QuarantineService
from docsvc.services.register_book import RegisterBookService
from docsvc.services.reports import summary as report_summary
from docsvc.services.signature_check import SignatureCheckService
from docsvc.services.signatures import SignatureService
from docsvc.settings import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from docsvc.services.archives.disposal import DisposalService
    from docsvc.services.archives.dossiers import DossierService
    from docsvc.services.archives.export import ExportService
    from docsvc.services.archives.holds import HoldService
    from docsvc.services.archives.locks import ObjectLocks
    from docsvc.services.archives.retention import RetentionCatalogue
    from docsvc.services.archives.secrecy import SecrecyService
    from docsvc.services.archives.transfers import TransferService
    from docsvc.services.audit_checkpoints import AuditCheckpoints
    from search import SearchIndex
    from search.sandbox import ExtractionLimits
    from storage import ObjectStore

log = logging.getLogger("docsvc")


@dataclass
class BackendStatus:
    name: str
    ok: bool
    detail: str
    latency_ms: float
    setting: str

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail, "latency_ms": round(self.latency_ms, 1)}


@dataclass
class Container:
    """Wired services and adapters of one process. Built once; shared by requests and tasks."""

    settings: Settings
    extra: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def db(self) -> Database:
        from docsvc.services.access import RELATIONSHIP_SOURCES_INFO
        from docsvc.services.indexing import INDEX_FIELD_SOURCES_INFO
        from docsvc.services.reorganisation.succession import provenance_index_fields, successor_relationships
        info = archive_hooks.session_info()
        # successors of a ceased agency read its records as it did, and its former name finds them (reorganisation)
        info[RELATIONSHIP_SOURCES_INFO] = (*info[RELATIONSHIP_SOURCES_INFO], successor_relationships)
        info[INDEX_FIELD_SOURCES_INFO] = (*info[INDEX_FIELD_SOURCES_INFO], provenance_index_fields)
        db = Database(make_engine(self.settings.database_url),
                      session_info={KEYS_INFO: self.audit_keys, DISPATCH_INFO: self.dispatch, **info})
        archive_hooks.install(db)  # the write-once guard on this database's sessions
        report_summary.install(db)  # the dashboard's counts kept by every write transaction
        return db

    @cached_property
    def dispatch(self) -> TaskDispatch:
        """Background work: bound by the process that runs tasks (``docsvc.tasks.app.use_container``)."""
        return TaskDispatch()

    @cached_property
    def audit_keys(self) -> AuditKeys:
        """The HMAC keys of the audit chain (``DOCSVC_AUDIT_KEY``; generated once when embedded)."""
        keys, active = secrets_store.audit_keys(self.settings)
        return AuditKeys(keys, active)

    @cached_property
    def audit_checkpoints(self) -> AuditCheckpoints:
        """Signed, time-stamped checkpoints of the audit chain kept in the object store."""
        from docsvc.services.audit_checkpoints import AuditCheckpoints
        return AuditCheckpoints(self.db, self.store, self.signatures, self.audit_keys,
                                retention_years=self.settings.audit_checkpoint_retention_years)

    @cached_property
    def passwords(self) -> Passwords:
        return Passwords(self.settings.password_hash_memory_kib, self.settings.password_hash_time_cost)

    @cached_property
    def identity(self) -> IdentityService:
        s = self.settings
        return IdentityService(self.db, self.passwords, token_ttl=timedelta(hours=s.token_ttl_hours),
                               max_failures=s.login_max_failures, lockout=timedelta(minutes=s.login_lockout_minutes),
                               throttle=self.login_throttle)

    @cached_property
    def login_throttle(self) -> LoginThrottle:
        s = self.settings
        return LoginThrottle(s.ratelimit_storage_url, per_account=s.login_rate_per_account,
                             per_address=s.login_rate_per_address, lockout_after=s.login_max_failures,
                             lockout_minutes=s.login_lockout_minutes)

    @cached_property
    def store(self) -> ObjectStore:
        """The object store (storage.ObjectStore): local folder or MinIO/S3."""
        from storage import open_store
        from storage.crypto import KeyRing
        s = self.settings
        keys, active = secrets_store.encryption_keys(s)
        options: dict[str, Any] = {"keyring": KeyRing(keys, active)}
        if s.storage_is_s3:
            options.update(endpoint=s.s3_endpoint, access_key=s.s3_access_key, secret_key=s.s3_secret_key,
                           region=s.s3_region, connect_timeout=5.0, read_timeout=float(s.s3_timeout_seconds),
                           retries=1)
        else:
            options.update(url_secret=secrets_store.secret_key(s).encode(), base_url=s.public_url)
        return open_store(s.storage_url, **options)

    @cached_property
    def files(self) -> FileStore:
        return FileStore(self.store)

    @cached_property
    def search_index(self) -> SearchIndex:
        """The search index (search.SearchIndex): embedded SQLite FTS5 or Elasticsearch."""
        from search import open_index
        s = self.settings
        if s.search_is_elasticsearch:
            return open_index(s.search_url, index=s.search_index, request_timeout=float(s.search_timeout_seconds),
                              **self.extra.get("search_options", {}))
        return open_index(s.search_url)

    @cached_property
    def calendar(self) -> CalendarService:
        return CalendarService(self.db, self.settings.holidays)

    @cached_property
    def notifications(self) -> NotificationService:
        return NotificationService(self.db, hide_top_secret_subject=self.settings.hide_top_secret_subject)

    @cached_property
    def documents(self) -> DocumentService:
        s = self.settings
        return DocumentService(self.db, self.files, secrecy_policy=s.secrecy_policy,
                               new_version_hooks=(chains.restart_on_new_version,),
                               hide_top_secret_subject=s.hide_top_secret_subject,
                               max_upload_bytes=s.max_upload_mb * 1024 * 1024, max_pages=s.max_pages,
                               validate_signatures=self.extra.get("validate_signatures",
                                                                  self.signatures.validate_stream))

    @cached_property
    def deadlines(self) -> DeadlineService:
        return DeadlineService(self.db, self.calendar)

    @cached_property
    def signatures(self) -> SignatureService:
        """Internal CA, users' and agencies' keys, PAdES signing and validation."""
        return SignatureService(self.settings)

    @cached_property
    def outgoing(self) -> OutgoingService:
        s = self.settings
        return OutgoingService(self.db, self.files, self.signatures, hide_top_secret_subject=s.hide_top_secret_subject,
                               secrecy_policy=s.secrecy_policy, enqueue=self.dispatch.enqueue,
                               exchange=self.exchange)

    @cached_property
    def enrolment(self) -> KeyEnrolment:
        """Signing certificates for people and seal keys on tokens (API, pages and CLI)."""
        return KeyEnrolment(self.db, self.signatures)

    @cached_property
    def split_signing(self) -> Any:
        """Signatures made with keys the server never holds (token via docsvc-signer, remote CSC)."""
        from docsvc.services.split_signing import SplitSigningService
        return SplitSigningService(self.db, self.files, self.signatures, self.outgoing,
                                   prepare_minutes=self.settings.signing_prepare_minutes)

    @cached_property
    def remote_signing(self) -> Any:
        """Signing through a CSC v2 remote-signing provider (DOCSVC_CSC_URL)."""
        from docsvc.services.remote_signing import RemoteSigningService
        return RemoteSigningService(self.split_signing, self.settings)

    @cached_property
    def incoming(self) -> IncomingService:
        return IncomingService(self.db, self.calendar, on_status=self.exchange.report_status)

    # ------------------------------------------------------------ exchange with other systems (edXML)
    @cached_property
    def exchange_transports(self) -> dict[str, Any]:
        """The transports this deployment is configured for (broker, folder, e-mail)."""
        s = self.settings
        out: dict[str, Any] = {}
        if s.exchange_broker_url:
            from docsvc.services.exchange.broker import BrokerTransport
            out["broker"] = BrokerTransport(s.exchange_broker_url)
        if s.exchange_folder:
            from docsvc.services.exchange.folder import FolderTransport
            out["folder"] = FolderTransport(s.exchange_folder)
        if s.smtp_host or s.exchange_mail_inbox:
            from docsvc.services.exchange.mail import MailTransport
            out["email"] = MailTransport(self.mailer, inbox=s.exchange_mail_inbox or None)
        return out

    @cached_property
    def mailer(self) -> Any:
        """Outbound SMTP (DOCSVC_SMTP_*), or None when no server is configured."""
        from docsvc.services.mailer import Mailer
        s = self.settings
        if not s.smtp_host:
            return None
        return Mailer(s.smtp_host, s.smtp_port, sender=s.smtp_from, user=s.smtp_user, password=s.smtp_password,
                      starttls=s.smtp_starttls, timeout=float(s.smtp_timeout_seconds))

    @cached_property
    def mail_notifications(self) -> Any:
        from docsvc.services.mail_notifications import MailNotificationService
        return MailNotificationService(self.db, self.mailer, public_url=self.settings.public_url)

    @cached_property
    def exchange(self) -> Any:
        from docsvc.services.exchange.service import ExchangeService
        s = self.settings
        kick = self.extra.get("exchange_kick", self._exchange_kick)
        return ExchangeService(self.db, self.files, self.signatures, transports=self.exchange_transports,
                               default_transport=s.exchange_default_transport,
                               quarantine_dir=s.data_dir / "exchange" / "quarantine",
                               max_attempts=s.exchange_max_attempts, max_upload_bytes=s.max_upload_mb * 1024 * 1024,
                               max_pages=s.max_pages, require_xml_signature=s.exchange_require_xml_signature,
                               kick=kick)

    def _exchange_kick(self) -> None:
        """Send what was just queued soon; with no task runner in this process the periodic send catches up."""
        from docsvc.services.dispatch import NoTaskRunner
        try:
            self.dispatch.kick("docsvc.exchange_send")
        except NoTaskRunner:
            log.debug("no task runner: the periodic exchange send will take the queued messages")

    @cached_property
    def approval(self) -> ApprovalService:
        return ApprovalService(self.db)

    @cached_property
    def registers(self) -> RegisterBookService:
        return RegisterBookService(self.db, hide_top_secret_subject=self.settings.hide_top_secret_subject)

    @cached_property
    def inbox(self) -> InboxService:
        return InboxService(self.db, hide_top_secret_subject=self.settings.hide_top_secret_subject)

    @cached_property
    def actions(self) -> ActionService:
        """What a user may do with a document now (pages show only those actions)."""
        return ActionService(self.db)

    @cached_property
    def quarantine(self) -> QuarantineService:
        return QuarantineService(self.db)

    @cached_property
    def idempotency(self) -> IdempotencyService:
        return IdempotencyService(self.db, timedelta(hours=self.settings.idempotency_hours))

    @cached_property
    def signature_check(self) -> SignatureCheckService:
        return SignatureCheckService(self.db, self.files, self.signatures)

    @cached_property
    def batch_jobs(self) -> Any:
        """The generic batch job runner (kinds are added by the services below)."""
        from docsvc.services.batches.jobs import BatchService
        from docsvc.tasks.app import kick
        return BatchService(self.db, self.identity.actor_for, kick=lambda: kick("docsvc.run_batches"))

    @cached_property
    def batches(self) -> Any:
        """Batch actions run in the background (docsvc.run_batches), with per-item results; every
        kind wired (receive, register, assign, sign, issue)."""
        self.intake  # noqa: B018
        self.batch_actions  # noqa: B018
        return self.batch_jobs

    @cached_property
    def intake(self) -> Any:
        """Receiving many files: metadata read from each, one review grid, registration in one action."""
        from docsvc.services.intake.service import IntakeService
        validate = self.extra.get("validate_signatures", self.signatures.validate_stream)
        return IntakeService(self.db, self.files, self.batch_jobs, self.documents, self.incoming,
                             max_upload_bytes=self.settings.max_upload_mb * 1024 * 1024,
                             limits=self.extraction_limits, ocr=self.extra.get("ocr", True),
                             validate=lambda data: validate(io.BytesIO(data)), keep_text=self.indexing.keep_text)

    @cached_property
    def batch_actions(self) -> Any:
        """Assigning, signing (PIN once) and issuing many documents."""
        from docsvc.services.batches.actions import BatchActions
        return BatchActions(self.batch_jobs, self.incoming, self.outgoing)

    @cached_property
    def reports(self) -> Any:
        """The dashboard of an agency or unit (only what the caller may read)."""
        from docsvc.services.reports.dashboard import ReportService
        return ReportService(self.db, cache_seconds=self.settings.report_cache_seconds)

    def run_batches(self) -> int:
        """Run pending batches (the background task; tests call it instead of a worker)."""
        return self.batches.run_pending()

    @cached_property
    def indexing(self) -> IndexingService:
        return IndexingService(self.db, self.files, self.search_index,
                               hide_top_secret_subject=self.settings.hide_top_secret_subject,
                               ocr=self.extra.get("ocr", True),
                               lease=timedelta(seconds=self.settings.outbox_lease_seconds),
                               max_failures=self.settings.outbox_max_failures,
                               extract_limits=self.extraction_limits)

    @cached_property
    def extraction_limits(self) -> ExtractionLimits:
        """Bounds of one text extraction (search.sandbox.ExtractionLimits) from settings."""
        from search.sandbox import ExtractionLimits
        s = self.settings
        return ExtractionLimits(cpu_seconds=s.extract_cpu_seconds, memory_mb=s.extract_memory_mb,
                                max_pages=s.extract_max_pages, max_ocr_pages=s.extract_max_ocr_pages,
                                max_text_chars=s.extract_max_text_mb * 1_000_000)

    # ------------------------------------------------------------ dossiers and archives
    @cached_property
    def object_locks(self) -> ObjectLocks:
        """Storage locks (compliance retention, legal hold) of archived and held records."""
        from docsvc.services.archives.locks import ObjectLocks
        return ObjectLocks(self.db, self.store)

    @cached_property
    def retention(self) -> RetentionCatalogue:
        from docsvc.services.archives.retention import RetentionCatalogue
        return RetentionCatalogue(self.db)

    @cached_property
    def dossiers(self) -> DossierService:
        from docsvc.services.archives.dossiers import DossierService
        return DossierService(self.db, self.object_locks,
                              hide_top_secret_subject=self.settings.hide_top_secret_subject)

    @cached_property
    def transfers(self) -> TransferService:
        from docsvc.services.archives.transfers import TransferService
        return TransferService(self.db, self.object_locks)

    @cached_property
    def holds(self) -> HoldService:
        from docsvc.services.archives.holds import HoldService
        return HoldService(self.db, self.object_locks)

    @cached_property
    def disposal(self) -> DisposalService:
        from docsvc.services.archives.disposal import DisposalService
        return DisposalService(self.db, self.store, self.object_locks,
                               hide_top_secret_subject=self.settings.hide_top_secret_subject)

    @cached_property
    def secrecy(self) -> SecrecyService:
        from docsvc.services.archives.secrecy import SecrecyService
        return SecrecyService(self.db, hide_top_secret_subject=self.settings.hide_top_secret_subject)

    @cached_property
    def exports(self) -> ExportService:
        from docsvc.services.archives.export import ExportService
        from docsvc.services.archives.pdfa import find_converter
        converter = self.extra["pdfa_converter"] if "pdfa_converter" in self.extra else find_converter()
        return ExportService(self.db, self.files, work_dir=self.settings.data_dir / "tmp", converter=converter)

    # ------------------------------------------------------------ reorganisation (issue 19)
    @cached_property
    def reorganisations(self) -> Any:
        """Merge, split and rename agencies as one resumable job (docsvc.services.reorganisation)."""
        from docsvc.services.reorganisation.plans import ReorganisationService
        from docsvc.services.reorganisation.runner import ReorganisationRunner
        from docsvc.tasks.app import enqueue

        def revoke(serial_hex: str, reason: str, at: Any) -> None:
            self.signatures.ca.revoke(int(serial_hex, 16), reason=reason, at=at)

        return ReorganisationService(self.db, lambda: ReorganisationRunner(self.db, revoke), enqueue)

    @cached_property
    def bulk_certificates(self) -> Any:
        """Certificates issued in bulk from a CSV for an agency's people (after a reorganisation)."""
        from docsvc.services.reorganisation.certificates import BulkCertificates
        from docsvc.tasks.app import enqueue
        return BulkCertificates(self.db, self.signatures, enqueue)

    def document_types(self) -> list[dict[str, Any]]:
        from sqlalchemy import select

        from docsvc.db.models import DocumentType
        with self.db.read() as s:
            return [{"id": t.id, "code": t.code, "name": t.name, "kind": t.kind}
                    for t in s.execute(select(DocumentType).where(DocumentType.active.is_(True))
                                       .order_by(DocumentType.sort_order)).scalars()]

    def sweep_orphans(self, grace: timedelta = timedelta(days=1)) -> int:
        """Delete stored objects no database row references (storage.sweep_orphans)."""
        from sqlalchemy import select

        from docsvc.db.models import DocumentFile
        from docsvc.services.intake.service import staged_file_kept
        from storage import sweep_orphans
        from storage.keys import parse_key

        def referenced(key: str) -> bool:
            with self.db.read() as s:
                if s.execute(select(DocumentFile.id).where(DocumentFile.object_key == key).limit(1)).first():
                    return True
                return staged_file_kept(s, parse_key(key).digest)
        report = sweep_orphans(self.store, referenced, grace)
        log.info("orphan sweep: %s", report.summary())
        return len(report.deleted)

    # ------------------------------------------------------------ health
    def backend_checks(self) -> dict[str, tuple[str, Callable[[], str]]]:
        """name → (setting that configures it, check returning a detail or raising)."""
        return {"database": ("DOCSVC_DATABASE_URL", self._check_database),
                "storage": ("DOCSVC_STORAGE_URL", self._check_storage),
                "search": ("DOCSVC_SEARCH_URL", self._check_search),
                "broker": ("DOCSVC_BROKER_URL", self._check_broker)}

    def _check_storage(self) -> str:
        self.store.health()
        return "s3 " + self.settings.storage_url if self.settings.storage_is_s3 else "local folder"

    def _check_search(self) -> str:
        if not self.search_index.health():
            raise RuntimeError("the search index does not answer or is missing: run `docsvc init`")
        return "elasticsearch" if self.settings.search_is_elasticsearch else "embedded (SQLite FTS5)"

    def health(self) -> list[BackendStatus]:
        out = []
        for name, (setting, check) in self.backend_checks().items():
            started = time.perf_counter()
            try:
                detail, ok = check(), True
            except Exception as exc:  # a health check reports, it does not raise
                detail, ok = _one_line(exc), False
            out.append(BackendStatus(name, ok, detail, (time.perf_counter() - started) * 1000, setting))
        return out

    def _check_database(self) -> str:
        with self.db.engine.connect() as conn:
            conn.execute(text("select 1"))
        from docsvc.db.migrate import current_revision, head_revision
        current, head = current_revision(self.db.engine), head_revision(self.db.engine)
        if current != head:
            raise RuntimeError(f"schema at revision {current}, code expects {head}: run `docsvc init`")
        return f"{self.db.dialect} (schema {current})"

    def _check_broker(self) -> str:
        if self.settings.broker_is_embedded:
            return "embedded (background thread of the serving process)"
        from kombu import Connection
        with Connection(self.settings.broker_url, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
        return conn.transport_cls if isinstance(conn.transport_cls, str) else "redis"

    def close(self) -> None:
        for transport in self.__dict__.get("exchange_transports", {}).values():
            transport.close()
        if "search_index" in self.__dict__:
            self.search_index.close()
        if "db" in self.__dict__:
            self.db.dispose()


def _one_line(exc: BaseException) -> str:
    text_ = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text_[0] if text_ else ''}"[:300]


def build_container(settings: Settings | None = None) -> Container:
    return Container(settings or load_settings())


def require_backends(container: Container) -> None:
    """Fail at start with one clear line naming the setting of the first unreachable backend."""
    for status in container.health():
        if not status.ok:
            raise ConfigError(status.setting, f"{status.name} not usable: {status.detail}")
