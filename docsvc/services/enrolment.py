"""Signing keys: a person's certificate from the internal CA and an agency's seal key on a token.

One use case for every door: the API (``POST /me/signing-key``), the profile page and the CLI
(``docsvc ca enrol``, ``docsvc ca token-enrol``) call these methods, so the rule of who may hold a key
(:func:`docsvc.domain.policies.may_hold_signing_key`), who may enrol someone else (an administrator
over his agency, or the system) and the audit event are the same whichever door is used.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from docsvc.db.models import Organisation, SigningKey, User
from docsvc.db.rows import must_get
from docsvc.db.uow import Database
from docsvc.domain import policies
from docsvc.domain.identity import Actor, RequestOrigin
from docsvc.errors import NotFound
from docsvc.services import audit
from docsvc.services.identity import actor_of, require_admin_over
from docsvc.services.signatures import SignatureService


class KeyEnrolment:
    """Issues and shows signing certificates (users) and puts agencies' seal keys on tokens."""

    def __init__(self, db: Database, signatures: SignatureService) -> None:
        self.db, self.signatures = db, signatures

    def enrol(self, actor: Actor, pin: str, origin: RequestOrigin | None = None, *,
              username: str | None = None) -> dict[str, Any]:
        """Issue a signing certificate protected by ``pin``: to the caller, or (``username``) to someone
        an administrator of his agency, or the system, enrols."""
        with self.db.write() as s:
            if username is None:
                user = must_get(s, User, actor.user_id)
            else:
                found = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
                if found is None:
                    raise NotFound(f"no user {username!r}")
                user = found
                if user.id != actor.user_id and not policies.is_system(actor):
                    require_admin_over(s, actor, user.agency_id, what="signing keys")
            policies.may_hold_signing_key(actor_of(user)).enforce()
            row = self.signatures.enrol_user(s, user, pin)
            audit.record(s, actor=actor, action="signing_key.enrol", object_type="user", object_id=user.id,
                         origin=origin, agency_id=user.agency_id,
                         details={"serial": row.cert_serial, "subject": row.subject})
            return key_dict(row)

    def my_key(self, actor: Actor) -> dict[str, Any]:
        """The caller's current (not revoked) signing certificate."""
        with self.db.read() as s:
            row = s.execute(select(SigningKey).where(SigningKey.user_id == actor.user_id,
                                                     SigningKey.revoked_at.is_(None))
                            .order_by(SigningKey.id.desc())).scalars().first()
            if row is None:
                raise NotFound("you have no signing certificate yet")
            return key_dict(row)

    def enrol_agency_token(self, actor: Actor, organ_id: str, *, module: str, token: str, pin: str,
                           label: str | None, origin: RequestOrigin | None = None) -> dict[str, Any]:
        """Create the agency's seal key on a PKCS#11 token and certify it (see
        :meth:`SignatureService.enrol_agency_token`). ``label`` defaults to ``docsvc-org-<OrganId>``."""
        with self.db.write() as s:
            agency = s.execute(select(Organisation).where(Organisation.organ_id == organ_id)).scalar_one_or_none()
            if agency is None:
                raise NotFound(f"no agency with OrganId {organ_id!r}")
            if not policies.is_system(actor):
                require_admin_over(s, actor, agency.id, what="the agency's seal key")
            key_label = label or f"docsvc-org-{organ_id}"
            row = self.signatures.enrol_agency_token(s, agency, module=module, token=token, pin=pin, label=key_label)
            audit.record(s, actor=actor, action="signing_key.enrol_token", object_type="organisation",
                         object_id=agency.id, origin=origin, agency_id=agency.id,
                         details={"serial": row.cert_serial, "token": token, "label": key_label})
            return {**key_dict(row), "agency": agency.name, "token": token, "label": key_label}


def key_dict(row: SigningKey) -> dict[str, Any]:
    return {"id": row.id, "serial": row.cert_serial, "subject": row.subject, "not_after": row.not_after,
            "kind": row.kind}
