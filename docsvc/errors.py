"""Typed domain errors. Services raise these; one handler maps them to HTTP (status + JSON body)."""

from __future__ import annotations

from typing import Any


class Msg(str):
    """An error message with a stable ``key``: the pages translate it by its key, so rewording the
    English text (what API clients read) never silently drops its translation.

    ``Msg("policy.registry_registers", "only the agency's registry registers incoming documents")``
    is the English string itself (a ``str``), carrying its key through helpers that pass it on."""

    key: str

    def __new__(cls, key: str, text: str) -> Msg:
        self = super().__new__(cls, text)
        self.key = key
        return self


class DomainError(Exception):
    """Base of every error a user can cause or be told about. ``code`` is stable for clients;
    ``key`` (when the message is a :class:`Msg`) names the message itself, for translations."""

    code = "error"
    status = 400

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = str(message)
        self.key: str | None = getattr(message, "key", None)
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidInput(DomainError):
    code, status = "invalid_input", 400


class Unauthenticated(DomainError):
    code, status = "unauthenticated", 401


class PermissionDenied(DomainError):
    code, status = "forbidden", 403


class NotFound(DomainError):
    """Also used for objects the caller may not see: their existence is not revealed."""

    code, status = "not_found", 404


class Conflict(DomainError):
    code, status = "conflict", 409


class InvalidState(DomainError):
    """The action is not allowed in the object's current state (e.g. approve a draft)."""

    code, status = "invalid_state", 409


class Gone(DomainError):
    """The record exists but its content does not any more (destroyed after appraisal)."""

    code, status = "content_destroyed", 410


class PayloadTooLarge(DomainError):
    code, status = "payload_too_large", 413


class UnsupportedMediaType(DomainError):
    code, status = "unsupported_media_type", 415


class Locked(DomainError):
    """Account locked after repeated failed logins, or a record under write-once protection."""

    code, status = "locked", 423


class TooManyRequests(DomainError):
    """A rate limit refused the request; ``details["retry_after"]`` is the wait in seconds."""

    code, status = "too_many_requests", 429


class BackendUnavailable(DomainError):
    code, status = "backend_unavailable", 503
