"""The navigation registry: each page module declares its menu entries and who sees them.

An entry's ``roles`` also guard its blueprint (see ``base.page_blueprint``), so a menu entry and
the pages behind it are governed by one declaration."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from docsvc.domain.identity import Actor, Role


@dataclass(frozen=True)
class NavItem:
    endpoint: str  # Flask endpoint, e.g. "work.inbox"
    label: Any  # a lazy gettext string
    order: int = 50  # position in the menu (smaller first)
    roles: frozenset[Role] = field(default_factory=frozenset)  # empty: every signed-in user
    args: tuple[tuple[str, Any], ...] = ()  # url_for arguments

    def visible_to(self, actor: Actor) -> bool:
        return not self.roles or actor.has(*self.roles)


class Navigation:
    """The menu of one application, filled by ``register_pages`` from the page modules."""

    def __init__(self) -> None:
        self._items: dict[str, NavItem] = {}

    def add(self, items: Iterable[NavItem]) -> None:
        for item in items:
            self._items[item.endpoint + repr(item.args)] = item

    def for_actor(self, actor: Actor) -> list[NavItem]:
        return sorted((i for i in self._items.values() if i.visible_to(actor)), key=lambda i: (i.order, i.endpoint))
