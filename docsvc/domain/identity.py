"""Roles, clearance levels, agency codes and the authenticated actor."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from docsvc.errors import Msg


class Role(StrEnum):
    CLERK = "clerk"  # văn thư: registers incoming, numbers and issues outgoing, holds the org seal
    OFFICER = "officer"  # chuyên viên: drafts and handles documents
    UNIT_HEAD = "unit_head"  # trưởng phòng: reviews drafts, re-assigns work in the unit
    LEADER = "leader"  # lãnh đạo: instructs, approves and signs
    ARCHIVIST = "archivist"  # lưu trữ: dossiers, transfer, retention, disposal
    ADMIN = "admin"  # users, units, templates, catalogues

    @property
    def label_vi(self) -> str:
        return _ROLE_LABELS_VI[self]


_ROLE_LABELS_VI = {
    Role.CLERK: "Văn thư", Role.OFFICER: "Chuyên viên", Role.UNIT_HEAD: "Trưởng đơn vị",
    Role.LEADER: "Lãnh đạo", Role.ARCHIVIST: "Lưu trữ", Role.ADMIN: "Quản trị",
}


class Secrecy(IntEnum):
    """Secrecy levels of documents, which are also the clearance levels of users."""

    NONE = 0
    MAT = 1  # Mật (Confidential)
    TOI_MAT = 2  # Tối mật (Secret)
    TUYET_MAT = 3  # Tuyệt mật (Top secret)

    @property
    def label_vi(self) -> str:
        return _SECRECY_LABELS_VI[self]

    @property
    def key(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str | int) -> Secrecy:
        """Accept 0-3, 'none', 'mat', 'toi_mat', 'tuyet_mat' or the Vietnamese labels."""
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            return cls(int(value))
        lowered = value.strip().lower()
        for level in cls:
            if lowered in (level.key, level.label_vi.lower()):
                return level
        raise ValueError(f"unknown secrecy level {value!r} (none, mat, toi_mat, tuyet_mat)")


#: What lists show instead of the subject of a Tuyệt mật document where the deployment hides it
#: (DOCSVC_HIDE_TOP_SECRET_SUBJECT).
HIDDEN_SUBJECT = "[Tuyệt mật]"


def listed_subject(subject: str, secrecy: int, hide_top_secret: bool) -> str:
    """The subject a list, a search hit or a record shows for a document of this secrecy level."""
    return HIDDEN_SUBJECT if hide_top_secret and secrecy == Secrecy.TUYET_MAT else subject


_SECRECY_LABELS_VI = {Secrecy.NONE: "Thường", Secrecy.MAT: "Mật", Secrecy.TOI_MAT: "Tối mật",
                      Secrecy.TUYET_MAT: "Tuyệt mật"}


class OrgKind(StrEnum):
    PROVINCE = "province"
    DEPARTMENT = "department"
    COMMUNE = "commune"
    UNIT = "unit"

    @property
    def is_agency(self) -> bool:
        return self is not OrgKind.UNIT


# Which kinds may sit under which: province → department/commune → unit (units may nest).
ALLOWED_PARENTS: dict[OrgKind, tuple[OrgKind | None, ...]] = {
    OrgKind.PROVINCE: (None,),
    OrgKind.DEPARTMENT: (OrgKind.PROVINCE, None),
    OrgKind.COMMUNE: (OrgKind.PROVINCE, None),
    OrgKind.UNIT: (OrgKind.PROVINCE, OrgKind.DEPARTMENT, OrgKind.COMMUNE, OrgKind.UNIT),
}

# OrganId: 13 characters, e.g. 000.00.00.H41 (agency code of the national document exchange).
ORGAN_ID_RE = re.compile(r"^[0-9A-Z]{3}\.[0-9A-Z]{2}\.[0-9A-Z]{2}\.[A-Z][0-9]{2}$")
ABBREVIATION_RE = re.compile(r"^[0-9A-ZĐ][0-9A-ZĐa-zđ&]{0,19}$")
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


def organ_id_problem(value: str) -> str | None:
    if len(value) != 13:
        return f"must be 13 characters (e.g. 000.00.00.H41), got {len(value)}"
    if not ORGAN_ID_RE.match(value):
        return "must look like 000.00.00.H41 (digits/capitals in groups of 3.2.2, then a letter and 2 digits)"
    return None


def password_problem(password: str, username: str = "") -> str | None:
    if len(password) < 10:
        return Msg("identity.must_least_10_characters", "must be at least 10 characters")
    if len(password) > 256:
        return "must be at most 256 characters"
    if not (re.search(r"[A-Za-zÀ-ỹ]", password) and re.search(r"\d", password)):
        return Msg("identity.must_contain_letters_digits", "must contain letters and digits")
    if username and username.lower() in password.lower():
        return Msg("identity.must_not_contain_username", "must not contain the username")
    return None


@dataclass(frozen=True)
class Actor:
    """The authenticated user on whose behalf a use case runs."""

    user_id: int
    username: str
    full_name: str
    agency_id: int
    roles: frozenset[Role]
    clearance: Secrecy
    unit_ids: frozenset[int] = field(default_factory=frozenset)
    position: str = ""
    agency_name: str = ""  # for display (the page header); read with the rest at authentication

    def has(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)


#: What a user's rights consist of: whoever changes one of these for himself grants himself rights.
RIGHTS = frozenset({"roles", "clearance", "units", "is_active"})


def self_grant_problem(actor: Actor, user_id: int, changed: set[str]) -> str | None:
    """Nobody changes his own rights (an administrator making himself leader + Tuyệt mật would read
    the agency's secrets): another administrator has to. His own position and password he may change."""
    own = sorted(changed & RIGHTS) if actor.user_id == user_id else []
    return f"you cannot change your own {', '.join(own)}; ask another administrator" if own else None


@dataclass(frozen=True)
class RequestOrigin:
    """Where a request came from, for the audit log."""

    ip: str | None = None
    user_agent: str | None = None
    channel: str = "api"  # api, web, cli, task
