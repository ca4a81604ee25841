"""Loading one row by primary key when the caller relies on it being there."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.orm import Session

from docsvc.errors import NotFound

T = TypeVar("T")


def must_get(s: Session, model: type[T], key: Any, **options: Any) -> T:
    """``s.get(model, key, **options)``, or ``NotFound`` when there is no such row (an id read from another row or a
    request whose row was deleted meanwhile): a clear 404 instead of an AttributeError on None later."""
    found = s.get(model, key, **options)
    if found is None:
        raise NotFound(f"{model.__name__.lower()} {key} not found", {"id": key})
    return found
