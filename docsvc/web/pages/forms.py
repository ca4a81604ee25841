"""Reading HTML form fields into the values services take (a bad value is InvalidInput naming the field)."""

from __future__ import annotations

from datetime import date
from typing import Any, BinaryIO, cast

from flask import request
from pydantic import BaseModel

from docsvc.errors import InvalidInput
from docsvc.services.documents import Upload
from docsvc.services.incoming import Target
from docsvc.web.api.spec import _is_list, parse_model


def text(name: str, default: str = "") -> str:
    return (request.form.get(name) or default).strip()


def optional_int(name: str) -> int | None:
    raw = text(name)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number", {"field": name}) from None


def optional_float(name: str) -> float | None:
    raw = text(name).replace(",", ".")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a number", {"field": name}) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidInput(f"{name} must be a number", {"field": name})
    return value


def optional_date(name: str) -> date | None:
    raw = text(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a date (yyyy-mm-dd)", {"field": name}) from None


def int_list(name: str) -> list[int]:
    try:
        return [int(v) for v in request.form.getlist(name) if v.strip()]
    except ValueError:
        raise InvalidInput(f"{name} must list whole numbers", {"field": name}) from None


def flag(name: str) -> bool:
    return request.form.get(name) in ("1", "on", "true", "yes")


def target(value: str, field: str) -> Target:
    """``user:5`` or ``unit:3`` (the value of an assignee option)."""
    kind, _, ident = value.partition(":")
    if kind not in ("user", "unit") or not ident.isdigit():
        raise InvalidInput("choose a person or a unit", {"field": field})
    return Target(user_id=int(ident)) if kind == "user" else Target(unit_id=int(ident))


def targets(name: str) -> list[Target]:
    return [target(v, name) for v in request.form.getlist(name) if v]


def uploads(name: str) -> list[Upload]:
    # werkzeug types the stream IO[bytes]; it is the binary file object Upload takes
    return [Upload(f.filename, cast(BinaryIO, f.stream)) for f in request.files.getlist(name) if f and f.filename]


def model(cls: type[BaseModel], **fixed: Any) -> Any:
    """Validate the form's filled-in fields (empty ones are left out) with an API request model."""
    values: dict[str, Any] = {}
    for name, info in cls.model_fields.items():
        key = info.alias or name
        items = [v for v in request.form.getlist(key) if v.strip()]
        if items:
            values[key] = items if _is_list(info.annotation) else items[0]
    return parse_model(cls, {**values, **fixed})
