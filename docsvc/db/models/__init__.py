"""All models, imported here so that ``Base.metadata`` (and Alembic) sees every table."""

from docsvc.db.models.archives import (
    ArchiveTransfer,
    DisposalItem,
    DisposalList,
    Dossier,
    DossierDocument,
    DossierPlan,
    LegalHold,
    ObjectLock,
    RetentionPeriod,
    SecrecyDecision,
)
from docsvc.db.models.audit import AuditCheckpoint, AuditEvent, AuditHead
from docsvc.db.models.batches import Batch, BatchItem
from docsvc.db.models.documents import (
    Document,
    DocumentFile,
    DocumentGrant,
    DocumentLink,
    DocumentReader,
    DocumentType,
    OutboxItem,
    RegisterCounter,
    RegisterEntry,
)
from docsvc.db.models.exchange import ExchangeAgency, ExchangeInbound, ExchangeMessage, NotificationMailPref
from docsvc.db.models.identity import ApiToken, Organisation, User, UserRole, UserUnit
from docsvc.db.models.reorganisation import (
    AgencySuccession,
    ArchiveFonds,
    CertBatch,
    CertBatchItem,
    ReorgItem,
    ReorgPlan,
)
from docsvc.db.models.reports import (
    ReportCount,
    ReportDocumentFact,
    ReportReaderClass,
    ReportReaderClassToken,
    ReportSummaryState,
)
from docsvc.db.models.requests import IdempotencyRecord
from docsvc.db.models.workflow import (
    AgencyCalendarDay,
    Assignment,
    CalendarDay,
    ChainDecision,
    ChainInstance,
    ChainStep,
    ChainTemplate,
    Delegation,
    Notification,
    ProgressUpdate,
    Recipient,
    SigningKey,
    SigningPreparation,
    UserCertificate,
)

__all__ = [
    "AgencyCalendarDay", "AgencySuccession", "ApiToken", "ArchiveFonds", "ArchiveTransfer", "Assignment",
    "AuditCheckpoint", "AuditEvent", "AuditHead", "Batch", "BatchItem", "CalendarDay", "CertBatch", "CertBatchItem",
    "ChainDecision", "ChainInstance", "ChainStep", "ChainTemplate", "Delegation", "DisposalItem", "DisposalList",
    "Document", "DocumentFile", "DocumentGrant", "DocumentLink", "DocumentReader", "DocumentType", "Dossier",
    "DossierDocument", "DossierPlan", "ExchangeAgency", "ExchangeInbound", "ExchangeMessage", "IdempotencyRecord",
    "LegalHold", "Notification", "NotificationMailPref", "ObjectLock", "Organisation", "OutboxItem",
    "ProgressUpdate", "Recipient", "RegisterCounter", "RegisterEntry", "ReorgItem", "ReorgPlan", "ReportCount",
    "ReportDocumentFact", "ReportReaderClass", "ReportReaderClassToken", "ReportSummaryState", "RetentionPeriod",
    "SecrecyDecision", "SigningKey", "SigningPreparation", "User", "UserCertificate", "UserRole", "UserUnit",
]
