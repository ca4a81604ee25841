"""Organisations (agencies and their units), users, roles, unit memberships and API tokens."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docsvc.db.base import Base, utcnow


class Organisation(Base):
    """A node of the administrative hierarchy: province → department/commune → unit.

    Provinces, departments and communes are agencies (they issue documents and keep a registry);
    units (phòng, ban, văn phòng) belong to an agency and draft and handle its documents.
    """

    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint("kind in ('province','department','commune','unit')", name="kind"),
        CheckConstraint("status in ('active','merged','split','renamed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    abbreviation: Mapped[str] = mapped_column(String(20))
    organ_id: Mapped[str | None] = mapped_column(String(13), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # lifecycle (reorganisation): an agency that is not active takes no new numbers and its work went
    # to its successor(s) (agency_successions) on ``ceased_on`` by ``ceased_by`` (the decision)
    status: Mapped[str] = mapped_column(String(8), default="active", server_default="active")
    ceased_on: Mapped[date | None] = mapped_column(Date)
    ceased_by: Mapped[str | None] = mapped_column(String(200))

    parent: Mapped[Organisation | None] = relationship(remote_side=[id])


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("clearance between 0 and 3", name="clearance"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(200), default="")  # chức vụ, e.g. "Chủ tịch"
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    clearance: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    agency: Mapped[Organisation] = relationship()
    roles: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    units: Mapped[list[UserUnit]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (
        CheckConstraint("role in ('clerk','officer','unit_head','leader','archivist','admin')", name="role"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)


class UserUnit(Base):
    __tablename__ = "user_units"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True, index=True)


class ApiToken(Base):
    """A bearer token. Only its SHA-256 is stored: a stolen database yields no usable token."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user_expires", "user_id", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()
    created_ip: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship()
