"""Models shared by API modules: pagination and small response shapes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

T = TypeVar("T")

# The largest id or count the databases store (PostgreSQL INTEGER): a larger number in a request
# is a 400 (or a 404 in a path), not an overflow inside the database driver.
INT_MAX = 2**31 - 1


class StrictModel(BaseModel):
    """Request models reject unknown fields, so a typo is a 400, not silently ignored, and text
    with a NUL character (which PostgreSQL cannot store, SQLite silently would)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if _has_nul(data):
            raise ValueError("text must not contain NUL (\\x00) characters")
        return data

    @model_validator(mode="after")
    def _ints_in_range(self) -> StrictModel:
        for name in type(self).model_fields:
            value = getattr(self, name)
            for v in value if isinstance(value, (list, tuple, set, frozenset)) else (value,):
                if isinstance(v, int) and not isinstance(v, bool) and not -INT_MAX - 1 <= v <= INT_MAX:
                    raise ValueError(f"{name}: {v} is out of range (at most {INT_MAX})")
        return self


def _has_nul(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if depth > 20:
        return False
    if isinstance(value, dict):
        return any(_has_nul(k, depth + 1) or _has_nul(v, depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_nul(v, depth + 1) for v in value)
    return False


class PageQuery(StrictModel):
    page: int = Field(1, ge=1, le=100000, description="1-based page number")
    per_page: int = Field(50, ge=1, le=200, description="items per page (at most 200)")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


class Page(BaseModel, Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int
    next_page: int | None


def page_of(items: Sequence[Any], query: PageQuery, total: int | None = None) -> dict[str, Any]:
    """Slice an in-memory sequence (or wrap an already-sliced one when ``total`` is given)."""
    if total is None:
        total = len(items)
        items = items[query.offset: query.offset + query.per_page]
    has_more = query.offset + len(items) < total
    return {"items": [i.to_dict() if hasattr(i, "to_dict") else i for i in items], "page": query.page,
            "per_page": query.per_page, "total": total, "next_page": query.page + 1 if has_more else None}


class Message(BaseModel):
    message: str
