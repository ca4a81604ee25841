"""The retention catalogue: data an administrator edits, versioned (an edit adds a version)."""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import RetentionPeriod
from docsvc.db.uow import Database
from docsvc.domain.archives import Retention
from docsvc.domain.identity import Actor, RequestOrigin, Role
from docsvc.domain.policies import is_system
from docsvc.errors import Conflict, InvalidInput, Msg, NotFound
from docsvc.services import audit
from docsvc.services.archives.common import require, required_text, retention_dict

CODE_MAX = 30


def current_entry(s: Session, code: str) -> RetentionPeriod:
    row = s.execute(select(RetentionPeriod).where(RetentionPeriod.code == code.strip(),
                                                  RetentionPeriod.is_current.is_(True))).scalar_one_or_none()
    if row is None:
        raise InvalidInput(f"no retention entry {code!r} in the catalogue", {"field": "retention_code"})
    return row


class RetentionCatalogue:
    def __init__(self, db: Database) -> None:
        self.db = db

    def list(self, *, include_superseded: bool = False) -> list[dict[str, Any]]:
        """Current entries (every version with ``include_superseded``), by code."""
        q = select(RetentionPeriod)
        if not include_superseded:
            q = q.where(RetentionPeriod.is_current.is_(True))
        with self.db.read() as s:
            return [retention_dict(r) for r in s.execute(q.order_by(RetentionPeriod.code,
                                                                    RetentionPeriod.version)).scalars()]

    def versions(self, code: str) -> builtins.list[dict[str, Any]]:
        with self.db.read() as s:
            rows = s.execute(select(RetentionPeriod).where(RetentionPeriod.code == code)
                             .order_by(RetentionPeriod.version)).scalars().all()
            if not rows:
                raise NotFound(f"no retention entry {code!r}")
            return [retention_dict(r) for r in rows]

    def add(self, actor: Actor, *, code: str, description: str, years: int | None, legal_basis: str,
            origin: RequestOrigin | None = None) -> dict[str, Any]:
        require(actor, Role.ADMIN, message=Msg("archives.only_administrators_edit_retention_catalogue",
                                               "only administrators edit the retention catalogue"))
        code, description = _check_code(code), required_text(description, "description", 2000)
        Retention(years)
        with self.db.write() as s:
            if s.execute(select(RetentionPeriod.id).where(RetentionPeriod.code == code)).first():
                raise Conflict(f"retention entry {code!r} exists: change it (a new version) instead",
                               {"field": "code"})
            row = RetentionPeriod(code=code, version=1, description=description, years=years,
                                  legal_basis=legal_basis.strip()[:300], is_current=True,
                                  created_by=actor.user_id if not is_system(actor) else None)
            s.add(row)
            s.flush()
            audit.record(s, actor=actor, action="retention.add", object_type="retention", object_id=code,
                         origin=origin, details={"years": years, "legal_basis": row.legal_basis})
            return retention_dict(row)

    def change(self, actor: Actor, code: str, *, description: str | None = None,
               years: int | None | str = "keep", legal_basis: str | None = None, reason: str,
               origin: RequestOrigin | None = None) -> dict[str, Any]:
        """Add version N+1 of an entry. Dossiers keep the version they were given; a longer period
        reaches them only through an explicit extension (retention can only be extended)."""
        require(actor, Role.ADMIN, message=Msg("archives.only_administrators_edit_retention_catalogue",
                                               "only administrators edit the retention catalogue"))
        reason = required_text(reason, "reason", 2000)
        with self.db.write() as s:
            old = s.execute(select(RetentionPeriod).where(RetentionPeriod.code == code,
                                                          RetentionPeriod.is_current.is_(True))
                            .with_for_update()).scalar_one_or_none()
            if old is None:
                raise NotFound(f"no retention entry {code!r}")
            new_years = old.years if years == "keep" else years
            Retention(new_years)  # type: ignore[arg-type]
            new = RetentionPeriod(
                code=old.code, version=old.version + 1,
                description=(required_text(description, "description", 2000) if description is not None
                             else old.description),
                years=new_years, legal_basis=(legal_basis.strip()[:300] if legal_basis is not None
                                              else old.legal_basis),
                is_current=True, change_reason=reason, created_by=actor.user_id if not is_system(actor) else None)
            old.is_current, old.superseded_at = False, utcnow()
            s.flush()
            s.add(new)
            s.flush()
            audit.record(s, actor=actor, action="retention.change", object_type="retention", object_id=code,
                         origin=origin, details={"version": new.version, "years": [old.years, new.years],
                                                 "reason": reason})
            return retention_dict(new)


def _check_code(code: str) -> str:
    value = (code or "").strip()
    if not value or len(value) > CODE_MAX or any(c.isspace() for c in value):
        raise InvalidInput(f"a retention code is 1..{CODE_MAX} characters without spaces", {"field": "code"})
    return value

