"""One batch: show what is signed, ask the PIN once, sign every item on the token."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from signing.localsigner.token import Token, TokenError


@dataclass(frozen=True)
class Item:
    """A document docsvc prepared: ``data`` is what the key signs; ``document`` is what is shown."""

    prepared_id: str
    data: bytes
    document: dict[str, Any]

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Item:
        try:
            return cls(str(value["prepared_id"]), base64.b64decode(value["data_to_be_signed"], validate=True),
                       dict(value.get("document") or {}))
        except (KeyError, ValueError, TypeError) as exc:
            raise TokenError(f"a document to sign is malformed: {exc}") from None


def describe(items: list[Item]) -> str:
    """The table shown before the PIN is asked: number, subject, pages, SHA-256 of each document."""
    lines = [f"{len(items)} document(s) to sign:"]
    for n, item in enumerate(items, 1):
        d = item.document
        lines.append(f"  {n}. {d.get('number') or '(chưa có số)'} — {str(d.get('subject') or '')[:120]}")
        lines.append(f"     {d.get('pages') or '?'} page(s), SHA-256 {d.get('sha256') or '?'}")
    return "\n".join(lines)


def sign_items(token: Token, items: list[Item], ask_pin: Callable[[str], str],
               show: Callable[[str], None] = print) -> dict[str, bytes]:
    """Signature values by prepared id; one login (one PIN) for the whole batch."""
    if not items:
        return {}
    text = describe(items)
    show(text)
    pin = ask_pin(text)
    if not pin:
        raise TokenError("no PIN given: nothing signed")
    token.login(pin)
    try:
        return {item.prepared_id: token.sign(item.data) for item in items}
    finally:
        token.close()
