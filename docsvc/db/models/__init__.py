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
from docsvc.db.models.identity import ApiToken, Organisation, User, UserRole, UserUnit
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
)

__all__ = [
    "AgencyCalendarDay",
    "ArchiveTransfer", "DisposalItem", "DisposalList", "Dossier", "DossierDocument", "DossierPlan", "LegalHold",
    "ObjectLock", "RetentionPeriod", "SecrecyDecision",
    "ApiToken", "Assignment", "AuditCheckpoint", "AuditEvent", "AuditHead", "CalendarDay", "ChainDecision",
    "ChainInstance", "ChainStep", "ChainTemplate", "Delegation", "Document", "DocumentFile", "DocumentGrant",
    "DocumentLink", "DocumentReader", "DocumentType", "IdempotencyRecord", "Notification", "Organisation", "OutboxItem",
    "ProgressUpdate",
    "Recipient", "RegisterCounter", "RegisterEntry", "SigningKey", "User", "UserRole", "UserUnit",
]
