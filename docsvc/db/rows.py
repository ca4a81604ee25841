"""Loading one row by primary key when the caller relies on it being there; counting the rows a DML statement hit."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import Executable

from docsvc.errors import NotFound

T = TypeVar("T")


def must_get(s: Session, model: type[T], key: Any, **options: Any) -> T:
    """``s.get(model, key, **options)``, or ``NotFound`` when there is no such row (an id read from another row or a
    request whose row was deleted meanwhile): a clear 404 instead of an AttributeError on None later."""
    found = s.get(model, key, **options)
    if found is None:
        raise NotFound(f"{model.__name__.lower()} {key} not found", {"id": key})
    return found


def rows_affected(s: Session, statement: Executable) -> int:
    """Execute an UPDATE or DELETE and return how many rows it matched (``Session.execute`` is typed as returning a
    plain ``Result``; a DML statement's result is a ``CursorResult``, which carries ``rowcount``)."""
    result = s.execute(statement)
    if not isinstance(result, CursorResult):
        raise TypeError(f"{type(statement).__name__} returned no row count")
    return result.rowcount
