"""Every error message the code raises with a stable key (``docsvc.errors.Msg``) has a translation,
looked up by that key: rewording the English text cannot silently drop it."""

from __future__ import annotations

import ast
from pathlib import Path

from babel.messages.pofile import read_po

from docsvc.errors import InvalidInput, Msg, PermissionDenied
from docsvc.web.pages.messages import EXACT, KEYED

ROOT = Path(__file__).resolve().parents[2]


def raised_keys() -> dict[str, set[str]]:
    """key → the English texts it is raised with, from every ``Msg("key", "text")`` in docsvc."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / "docsvc").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Msg":
                key, text = node.args
                assert isinstance(key, ast.Constant) and isinstance(text, ast.Constant), f"{path}: Msg needs literals"
                found.setdefault(key.value, set()).add(text.value)
    return found


def catalogue() -> dict[str, str]:
    with open(ROOT / "docsvc/web/translations/vi/LC_MESSAGES/messages.po", "rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id and isinstance(m.id, str)}


def test_every_raised_key_has_a_translation() -> None:
    raised, vi = raised_keys(), catalogue()
    assert len(raised) > 100, "the scan found the keyed messages"
    missing = sorted(k for k in raised if k not in KEYED)
    assert missing == [], f"keys raised without an entry in messages.KEYED: {missing}"
    untranslated = sorted(k for k in raised if not vi.get(KEYED[k]))
    assert untranslated == [], f"keys whose message has no Vietnamese translation: {untranslated}"
    unused = sorted(set(KEYED) - set(raised))
    assert unused == [], f"entries of messages.KEYED nobody raises: {unused}"


def test_a_key_means_one_message() -> None:
    for key, texts in raised_keys().items():
        assert texts == {KEYED[key]}, f"{key} is raised with {texts}; the catalogue has {KEYED[key]!r}"


def test_every_exact_message_is_translated() -> None:
    vi = catalogue()
    assert sorted(m for m in EXACT if not vi.get(m)) == []


def test_errors_carry_the_key_of_their_message() -> None:
    err = PermissionDenied(Msg("policy.example", "only the example registry does this"))
    assert err.key == "policy.example" and err.message == "only the example registry does this"
    assert type(err.message) is str and err.to_dict()["error"]["message"] == "only the example registry does this"
    assert InvalidInput("plain text").key is None
