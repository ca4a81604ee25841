"""Loading one row by primary key when the caller relies on it being there; counting the rows a DML statement hit;
counting the rows of a paged list."""

from __future__ import annotations

from collections.abc import Sized
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
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


def total_of(s: Session, query: Select[Any], page: Sized, *, offset: int, limit: int) -> int:
    """How many rows ``query`` selects, of which ``page`` is the one at ``offset`` (at most ``limit``): the
    first page, when not full, is all there is (no COUNT statement); otherwise the database counts."""
    if offset == 0 and len(page) < limit:
        return len(page)
    return s.execute(select(func.count()).select_from(query.subquery())).scalar_one()
