"""Organisations, users and bearer tokens: who may do what, and who is calling."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import ApiToken, Organisation, User, UserRole, UserUnit
from docsvc.db.rows import must_get
from docsvc.db.uow import Database
from docsvc.domain.identity import (
    ABBREVIATION_RE,
    ALLOWED_PARENTS,
    RIGHTS,
    USERNAME_RE,
    Actor,
    OrgKind,
    RequestOrigin,
    Role,
    Secrecy,
    organ_id_problem,
    password_problem,
    self_grant_problem,
)
from docsvc.domain.policies import is_system
from docsvc.errors import Conflict, InvalidInput, Locked, Msg, NotFound, PermissionDenied, Unauthenticated
from docsvc.services import audit
from docsvc.services.login_throttle import LoginThrottle
from docsvc.services.passwords import Passwords
from docsvc.timeutil import to_vn_iso

TOKEN_PREFIX = "dsv_"
LAST_USED_RESOLUTION = timedelta(minutes=5)  # do not write on every request


@dataclass(frozen=True)
class OrganisationView:
    id: int
    kind: str
    name: str
    abbreviation: str
    organ_id: str | None
    parent_id: int | None
    agency_id: int  # the agency this node belongs to (itself for agencies)
    # lifecycle (reorganisation): active, merged, split or renamed; the day it ceased and the decision
    status: str = "active"
    ceased_on: str | None = None
    ceased_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    full_name: str
    position: str
    email: str | None
    agency_id: int
    agency_name: str
    roles: list[str]
    clearance: str
    unit_ids: list[int]
    is_active: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"access_token": self.token, "token_type": "Bearer", "expires_at": to_vn_iso(self.expires_at)}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


#: One statement read on every request: the token, its user, and the user's roles × units (a few
#: rows). Built once (with a bound parameter), so a request pays no statement construction and no
#: cache-key computation for it.
_TOKEN_ACTOR = (
    select(ApiToken.id, ApiToken.revoked_at, ApiToken.expires_at, ApiToken.last_used_at,
           User.id, User.username, User.full_name, User.agency_id, User.clearance, User.is_active,
           User.position, Organisation.name, UserRole.role, UserUnit.unit_id)
    .join(User, User.id == ApiToken.user_id).join(Organisation, Organisation.id == User.agency_id)
    .outerjoin(UserRole, UserRole.user_id == User.id).outerjoin(UserUnit, UserUnit.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash")))


class IdentityService:
    def __init__(self, db: Database, passwords: Passwords, *, token_ttl: timedelta,
                 max_failures: int = 5, lockout: timedelta = timedelta(minutes=15),
                 throttle: LoginThrottle | None = None) -> None:
        self.db = db
        self.passwords = passwords
        self.token_ttl = token_ttl
        self.max_failures = max_failures
        self.lockout = lockout
        self.throttle = throttle

    # ------------------------------------------------------------ organisations
    def add_organisation(self, actor: Actor, *, kind: str, name: str, abbreviation: str,
                         organ_id: str | None = None, parent_id: int | None = None,
                         origin: RequestOrigin | None = None) -> OrganisationView:
        try:
            org_kind = OrgKind(kind)
        except ValueError:
            raise InvalidInput(f"unknown organisation kind {kind!r}",
                               {"field": "kind", "allowed": [k.value for k in OrgKind]}) from None
        name = name.strip()
        if not name or len(name) > 200:
            raise InvalidInput(Msg("identity.name_required_most_200_characters",
                                   "name is required (at most 200 characters)"), {"field": "name"})
        if not ABBREVIATION_RE.match(abbreviation):
            raise InvalidInput(Msg("identity.abbreviation_must_1_20_letters_digits",
                                   "abbreviation must be 1-20 letters/digits starting with a capital (e.g. UBND, VP)"),
                               {"field": "abbreviation"})
        if org_kind.is_agency and not organ_id:
            raise InvalidInput(Msg("identity.agency_needs_13_character_organid",
                                   "an agency needs its 13-character OrganId"), {"field": "organ_id"})
        if organ_id:
            problem = organ_id_problem(organ_id)
            if problem:
                raise InvalidInput(f"organ_id {problem}", {"field": "organ_id"})
        with self.db.write() as s:
            parent = s.get(Organisation, parent_id) if parent_id is not None else None
            if parent_id is not None and parent is None:
                raise InvalidInput(f"parent organisation {parent_id} does not exist", {"field": "parent_id"})
            parent_kind = OrgKind(parent.kind) if parent else None
            if parent_kind not in ALLOWED_PARENTS[org_kind]:
                raise InvalidInput(f"a {org_kind.value} cannot be placed under "
                                   f"{'nothing' if parent is None else 'a ' + parent.kind}", {"field": "parent_id"})
            if not is_system(actor):
                self._require_admin_over(s, actor, parent.id if parent else None)
            if org_kind is OrgKind.UNIT and s.execute(select(Organisation.id).where(
                    Organisation.parent_id == parent_id, Organisation.abbreviation == abbreviation)).first():
                raise Conflict(f"a unit abbreviated {abbreviation!r} already exists there",
                               {"field": "abbreviation"})
            org = Organisation(kind=org_kind.value, name=name, abbreviation=abbreviation,
                               organ_id=organ_id or None, parent_id=parent_id)
            s.add(org)
            try:
                s.flush()
            except IntegrityError:
                raise Conflict(f"OrganId {organ_id} is already used", {"field": "organ_id"}) from None
            audit.record(s, actor=actor, action="org.create", object_type="organisation", object_id=org.id,
                         origin=origin, agency_id=_agency_of(s, org).id,
                         details={"name": name, "kind": org_kind.value, "organ_id": organ_id})
            return _org_view(s, org)

    def get_organisation(self, org_id: int) -> OrganisationView:
        with self.db.read() as s:
            org = s.get(Organisation, org_id)
            if org is None:
                raise NotFound(f"organisation {org_id} not found")
            return _org_view(s, org)

    def list_organisations(self) -> list[OrganisationView]:
        with self.db.read() as s:
            return [_org_view(s, o) for o in s.execute(select(Organisation).order_by(Organisation.id)).scalars()]

    def find_organisation(self, key: str) -> OrganisationView:
        """By id, OrganId or abbreviation (CLI convenience)."""
        with self.db.read() as s:
            q = select(Organisation).where(
                (Organisation.organ_id == key) | (Organisation.abbreviation == key)
                | (Organisation.id == (int(key) if key.isdigit() else -1)))
            orgs = list(s.execute(q).scalars())
            if not orgs:
                raise NotFound(f"no organisation {key!r}")
            if len(orgs) > 1:
                raise InvalidInput(f"{key!r} names several organisations; use the id or OrganId")
            return _org_view(s, orgs[0])

    # ------------------------------------------------------------ users
    def add_user(self, actor: Actor, *, username: str, password: str, full_name: str, agency_id: int,
                 roles: Iterable[str], clearance: str | int = 0, unit_ids: Iterable[int] = (),
                 position: str = "", email: str | None = None,
                 origin: RequestOrigin | None = None) -> UserView:
        username = username.strip().lower()
        if not USERNAME_RE.match(username):
            raise InvalidInput(Msg("identity.username_must_3_64_characters_lowercase",
                                   "username must be 3-64 characters: lowercase letters, digits, '.', '_' or '-'"),
                               {"field": "username"})
        problem = password_problem(password, username)
        if problem:
            raise InvalidInput(f"password {problem}", {"field": "password"})
        if not full_name.strip():
            raise InvalidInput(Msg("identity.full_name_required", "full_name is required"), {"field": "full_name"})
        role_set = _parse_roles(roles)
        level = _parse_clearance(clearance)
        password_hash = self.passwords.hash(password)  # slow on purpose: outside the transaction
        with self.db.write() as s:
            agency = s.get(Organisation, agency_id)
            if agency is None or not OrgKind(agency.kind).is_agency:
                raise InvalidInput(f"agency {agency_id} does not exist or is a unit", {"field": "agency_id"})
            if not is_system(actor):
                self._require_admin_over(s, actor, agency.id)
            units = _checked_units(s, agency, unit_ids)
            user = User(username=username, full_name=full_name.strip(), position=position.strip(),
                        email=email, password_hash=password_hash, agency_id=agency.id, clearance=int(level))
            user.roles = [UserRole(role=r.value) for r in sorted(role_set)]
            user.units = [UserUnit(unit_id=u) for u in units]
            s.add(user)
            try:
                s.flush()
            except IntegrityError:
                raise Conflict(f"username {username!r} is taken", {"field": "username"}) from None
            audit.record(s, actor=actor, action="user.create", object_type="user", object_id=user.id,
                         origin=origin, agency_id=agency.id,
                         details={"username": username, "roles": sorted(r.value for r in role_set),
                                  "clearance": level.key, "units": units})
            return _user_view(user)

    def update_user(self, actor: Actor, user_id: int, *, roles: Iterable[str] | None = None,
                    clearance: str | int | None = None, unit_ids: Iterable[int] | None = None,
                    is_active: bool | None = None, position: str | None = None,
                    password: str | None = None, origin: RequestOrigin | None = None) -> UserView:
        """Change a user (``actor`` SYSTEM: the operator's CLI). A user outside the administrator's
        agency is "not found", like a missing one; nobody changes his own rights."""
        new_hash = None
        if password is not None:
            with self.db.read() as s:
                uname = self._visible_user(s, actor, user_id).username
            problem = password_problem(password, uname)
            if problem:
                raise InvalidInput(f"password {problem}", {"field": "password"})
            new_hash = self.passwords.hash(password)
        with self.db.write() as s:
            user = self._visible_user(s, actor, user_id)
            if not is_system(actor):
                self._require_admin_over(s, actor, user.agency_id)
            changes: dict[str, Any] = {}
            role_set = _parse_roles(roles) if roles is not None else None
            level = _parse_clearance(clearance) if clearance is not None else None
            units = (_checked_units(s, must_get(s, Organisation, user.agency_id), unit_ids)
                     if unit_ids is not None else None)
            if role_set is not None and sorted(r.value for r in role_set) != sorted(r.role for r in user.roles):
                changes["roles"] = sorted(r.value for r in role_set)
            if level is not None and int(level) != user.clearance:
                changes["clearance"] = level.key
            if units is not None and units != sorted(u.unit_id for u in user.units):
                changes["units"] = units
            if is_active is not None and is_active != user.is_active:
                changes["is_active"] = is_active
            if not is_system(actor):
                problem = self_grant_problem(actor, user.id, set(changes))
                if problem:
                    raise PermissionDenied(problem, {"fields": sorted(set(changes) & RIGHTS)})
            if "roles" in changes and role_set is not None:
                user.roles = [UserRole(role=r.value) for r in sorted(role_set)]
            if "clearance" in changes and level is not None:
                user.clearance = int(level)
            if "units" in changes and units is not None:
                user.units = [UserUnit(unit_id=u) for u in units]
            if "is_active" in changes and is_active is not None:
                user.is_active = is_active
            if position is not None and position.strip() != user.position:
                user.position = position.strip()
                changes["position"] = user.position
            if new_hash is not None:
                user.password_hash = new_hash
                user.failed_logins, user.locked_until = 0, None
                changes["password"] = "changed"
            if changes.keys() & (RIGHTS | {"password"}):
                # Rights changed: sessions issued under the old rights end now.
                s.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                          .values(revoked_at=utcnow()))
            audit.record(s, actor=actor, action="user.update", object_type="user", object_id=user.id,
                         origin=origin, agency_id=user.agency_id, details=changes)
            s.flush()
            return _user_view(user)

    @staticmethod
    def _visible_user(s: Session, actor: Actor, user_id: int) -> User:
        """The user, if it exists and ``actor`` (SYSTEM: the operator) may see it; one answer otherwise,
        so that ids of other agencies' users cannot be told from missing ones."""
        user = s.get(User, user_id)
        if user is None or (not is_system(actor) and user.id != actor.user_id
                            and not _within(s, user.agency_id, actor.agency_id)):
            raise NotFound(f"user {user_id} not found")
        return user

    def get_user(self, actor: Actor, user_id: int) -> UserView:
        with self.db.read() as s:
            return _user_view(self._visible_user(s, actor, user_id))

    def list_users(self, actor: Actor, agency_id: int | None = None) -> list[UserView]:
        with self.db.read() as s:
            q = select(User).order_by(User.id)
            if agency_id is not None:
                q = q.where(User.agency_id == agency_id)
            users = list(s.execute(q).scalars())
            if not is_system(actor):
                users = [u for u in users if _within(s, u.agency_id, actor.agency_id)]
            return [_user_view(u) for u in users]

    def find_user(self, username: str) -> UserView:
        with self.db.read() as s:
            user = s.execute(select(User).where(User.username == username.lower())).scalar_one_or_none()
            if user is None:
                raise NotFound(f"no user {username!r}")
            return _user_view(user)

    # ------------------------------------------------------------ tokens
    def issue_token(self, username: str, password: str, origin: RequestOrigin | None = None) -> IssuedToken:
        """Password login. Failures are counted; after ``max_failures`` the account locks for a while.

        Attempts are rate-limited per account and per client address before anything else (429).
        A locked account answers the same 423 to every attempt: its password is not checked, so the
        answer says nothing about it (a hash is still computed, so a locked attempt costs the same time)."""
        now = utcnow()
        self._throttle(username, origin)
        with self.db.read() as s:
            user = s.execute(select(User).where(User.username == username.strip().lower())).scalar_one_or_none()
            stored = user.password_hash if user else None
            user_id = user.id if user else None
            active = bool(user and user.is_active)
            locked = bool(user and user.locked_until and user.locked_until > now)
        if user is None and self.throttle is not None:
            locked = self.throttle.unknown_locked(username)
        # Always one verification, even for unknown users; a locked account's is against the dummy hash.
        ok = self.passwords.verify(None if locked else stored, password)
        if user_id is None or not ok or locked or not active:
            self._login_failed(user_id, username, origin, locked=locked)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires = now + self.token_ttl
        with self.db.write() as s:
            u = must_get(s, User, user_id)
            u.failed_logins, u.locked_until = 0, None
            if self.passwords.needs_rehash(u.password_hash):
                u.password_hash = self.passwords.hash(password)
            s.add(ApiToken(user_id=u.id, token_hash=hash_token(token), expires_at=expires,
                           created_ip=origin.ip if origin else None))
            audit.record(s, actor=None, actor_name=u.username, action="auth.login", object_type="user",
                         object_id=u.id, origin=origin, agency_id=u.agency_id)
        return IssuedToken(token, expires)

    def _throttle(self, username: str, origin: RequestOrigin | None) -> None:
        if self.throttle is None:
            return
        refusal = self.throttle.attempt(username, origin.ip if origin else None)
        if refusal is None:
            return
        if refusal.first_in_window:
            with self.db.write() as s:
                user = s.execute(select(User).where(User.username == username.strip().lower())).scalar_one_or_none()
                audit.record(s, actor=None, actor_name=username[:64] or "?", action="auth.throttled",
                             object_type="user", object_id=user.id if user else None, outcome="denied",
                             origin=origin, agency_id=user.agency_id if user else None,
                             details={"scope": refusal.scope, "limit": refusal.limit})
        raise refusal.error()

    def _login_failed(self, user_id: int | None, username: str, origin: RequestOrigin | None,
                      *, locked: bool) -> None:
        with self.db.write() as s:
            agency_id = None
            if user_id is not None:
                u = must_get(s, User, user_id)
                agency_id = u.agency_id
                if not locked:
                    u.failed_logins += 1
                    if u.failed_logins >= self.max_failures:
                        u.locked_until = utcnow() + self.lockout
                        u.failed_logins = 0
                        locked = True
            elif not locked and self.throttle is not None:
                locked = self.throttle.unknown_failed(username)
            audit.record(s, actor=None, actor_name=username[:64] or "?", action="auth.login",
                         object_type="user", object_id=user_id, outcome="denied", origin=origin,
                         agency_id=agency_id, details={"locked": locked})
        if locked:
            raise Locked(f"too many failed logins; the account is locked for {int(self.lockout.total_seconds() // 60)} "
                         "minutes")
        raise Unauthenticated(Msg("identity.wrong_username_password", "wrong username or password"))

    def authenticate(self, token: str) -> Actor:
        """Resolve a bearer token to the acting user, or raise Unauthenticated."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
            raise Unauthenticated("invalid token")
        now = utcnow()
        with self.db.read() as s:
            # the actor is never kept between requests (a change of rights counts at once)
            rows = s.execute(_TOKEN_ACTOR, {"token_hash": hash_token(token)}).all()
        if not rows:
            raise Unauthenticated("invalid or revoked token")
        (token_id, revoked_at, expires_at, last_used_at, user_id, username, full_name, agency_id, clearance,
         is_active, position, agency_name, _role, _unit) = rows[0]
        if revoked_at is not None:
            raise Unauthenticated("invalid or revoked token")
        if expires_at <= now:
            raise Unauthenticated("token expired; log in again")
        if not is_active:
            raise Unauthenticated("account disabled")
        actor = Actor(user_id=user_id, username=username, full_name=full_name, agency_id=agency_id,
                      roles=frozenset(Role(r[12]) for r in rows if r[12] is not None), clearance=Secrecy(clearance),
                      unit_ids=frozenset(r[13] for r in rows if r[13] is not None), position=position,
                      agency_name=agency_name)
        stale = last_used_at is None or now - last_used_at > LAST_USED_RESOLUTION
        if stale:
            with self.db.write() as s:
                s.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
        return actor

    def revoke_token(self, token: str, actor: Actor, origin: RequestOrigin | None = None) -> None:
        with self.db.write() as s:
            row = s.execute(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).scalar_one_or_none()
            if row is None or row.user_id != actor.user_id:
                raise NotFound("token not found")
            row.revoked_at = utcnow()
            audit.record(s, actor=actor, action="auth.logout", object_type="user", object_id=actor.user_id,
                         origin=origin)

    def actor_for(self, user_id: int) -> Actor:
        with self.db.read() as s:
            user = s.get(User, user_id)
            if user is None:
                raise NotFound(f"user {user_id} not found")
            return actor_of(user)

    # ------------------------------------------------------------ helpers
    def _require_admin_over(self, s: Session, actor: Actor, org_id: int | None) -> None:
        require_admin_over(s, actor, org_id)


def require_admin_over(s: Session, actor: Actor, org_id: int | None,
                       what: str = "organisations and users") -> None:
    """``actor`` administers ``org_id``: an administrator of that agency or of one above it."""
    if not actor.has(Role.ADMIN):
        raise PermissionDenied(f"only an administrator may manage {what}")
    if org_id is None or not _within(s, org_id, actor.agency_id):
        raise PermissionDenied(Msg("identity.administrators_manage_only_their_own_agency",
                                   "administrators manage only their own agency and what lies below it"))


def is_deployment_admin(s: Session, actor: Actor) -> bool:
    """The deployment's administrator: an administrator of the one organisation every other lies
    under (the province in the demo). Deployment-wide settings, such as national holidays, are his."""
    if not actor.has(Role.ADMIN):
        return False
    roots = set(s.execute(select(Organisation.id).where(Organisation.parent_id.is_(None))).scalars())
    return roots == {actor.agency_id}


def actor_of(user: User) -> Actor:
    return Actor(user_id=user.id, username=user.username, full_name=user.full_name, agency_id=user.agency_id,
                 roles=frozenset(Role(r.role) for r in user.roles), clearance=Secrecy(user.clearance),
                 unit_ids=frozenset(u.unit_id for u in user.units), position=user.position)


def _parse_roles(roles: Iterable[str]) -> set[Role]:
    out: set[Role] = set()
    for r in roles:
        try:
            out.add(Role(str(r).strip()))
        except ValueError:
            raise InvalidInput(f"unknown role {r!r}", {"field": "roles", "allowed": [x.value for x in Role]}) from None
    if not out:
        raise InvalidInput(Msg("identity.user_needs_least_one_role",
                               "a user needs at least one role"), {"field": "roles"})
    return out


def _parse_clearance(value: str | int) -> Secrecy:
    try:
        return Secrecy.parse(value)
    except ValueError as exc:
        raise InvalidInput(str(exc), {"field": "clearance"}) from None


def _checked_units(s: Session, agency: Organisation, unit_ids: Iterable[int]) -> list[int]:
    units = sorted(set(int(u) for u in unit_ids))
    for unit_id in units:
        unit = s.get(Organisation, unit_id)
        if unit is None or unit.kind != OrgKind.UNIT.value or _agency_of(s, unit).id != agency.id:
            raise InvalidInput(f"unit {unit_id} is not a unit of agency {agency.id}", {"field": "unit_ids"})
    return units


def _agency_of(s: Session, org: Organisation) -> Organisation:
    node = org
    while node.kind == OrgKind.UNIT.value and node.parent_id is not None:
        node = must_get(s, Organisation, node.parent_id)
    return node


def _within(s: Session, org_id: int, root_id: int) -> bool:
    """Is ``org_id`` the node ``root_id`` or below it?"""
    node = s.get(Organisation, org_id)
    while node is not None:
        if node.id == root_id:
            return True
        node = s.get(Organisation, node.parent_id) if node.parent_id is not None else None
    return False


def _org_view(s: Session, org: Organisation) -> OrganisationView:
    return OrganisationView(id=org.id, kind=org.kind, name=org.name, abbreviation=org.abbreviation,
                            organ_id=org.organ_id, parent_id=org.parent_id, agency_id=_agency_of(s, org).id,
                            status=org.status or "active",
                            ceased_on=org.ceased_on.isoformat() if org.ceased_on else None, ceased_by=org.ceased_by)


def _user_view(user: User) -> UserView:
    return UserView(id=user.id, username=user.username, full_name=user.full_name, position=user.position,
                    email=user.email, agency_id=user.agency_id, agency_name=user.agency.name,
                    roles=sorted(r.role for r in user.roles), clearance=Secrecy(user.clearance).key,
                    unit_ids=sorted(u.unit_id for u in user.units), is_active=user.is_active)
