"""Users' full names for the shapes of lists (a document's creator, a dossier's owner, ...)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from docsvc.db.models import User

_NAMES = select(User.id, User.full_name).where(User.id.in_(bindparam("ids", expanding=True)))  # built once


def user_names(s: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    """Full names by user id, each loaded once per session: the ids not seen yet in one query, so a
    list naming a person on every item costs one query, not one per person (call it with every
    item's id before the items are shaped; a single item may call it with its own)."""
    names: dict[int, str] = s.info.setdefault("user_names", {})
    missing = sorted({i for i in user_ids if i is not None and i not in names})
    if missing:
        names.update({uid: name for uid, name in s.execute(_NAMES, {"ids": missing})})
    return names
