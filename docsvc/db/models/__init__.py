"""All models, imported here so that ``Base.metadata`` (and Alembic) sees every table."""

from docsvc.db.models.audit import AuditEvent, AuditHead
from docsvc.db.models.identity import ApiToken, Organisation, User, UserRole, UserUnit

__all__ = ["ApiToken", "AuditEvent", "AuditHead", "Organisation", "User", "UserRole", "UserUnit"]
