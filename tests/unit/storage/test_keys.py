"""Object keys are strict content addresses (they become file paths in the local store)."""

from __future__ import annotations

import hashlib

import pytest

from storage.errors import InvalidKey
from storage.keys import data_key_record, is_key, make_key, parse_key, record_owner, touch_record

DIGEST = hashlib.sha256(b"x").hexdigest()


def test_make_and_parse_round_trip() -> None:
    plain, secret = make_key(DIGEST, encrypted=False), make_key(DIGEST, encrypted=True)
    assert plain == f"sha256/{DIGEST[:2]}/{DIGEST}" and secret == f"enc/{plain}"
    assert parse_key(plain).digest == parse_key(secret).digest == DIGEST
    assert (parse_key(plain).encrypted, parse_key(secret).encrypted) == (False, True)


@pytest.mark.parametrize("bad", [DIGEST, f"sha256/{DIGEST}", f"sha256/zz/{DIGEST}",
                                 f"sha256/{DIGEST[:2]}/{DIGEST.upper()}",
                                 f"sha256/{DIGEST[:2]}/{DIGEST}/", f"/sha256/{DIGEST[:2]}/{DIGEST}",
                                 f"sha256/{DIGEST[:2]}/../{DIGEST}", f"enc/enc/sha256/{DIGEST[:2]}/{DIGEST}",
                                 f"sha256/{DIGEST[:2]}/{DIGEST}\n", 42])
def test_anything_else_is_not_a_key(bad: object) -> None:
    assert not is_key(bad)
    with pytest.raises(InvalidKey):
        parse_key(bad)


def test_make_key_needs_a_hex_digest() -> None:
    with pytest.raises(InvalidKey):
        make_key("../" + DIGEST[3:], encrypted=False)


def test_record_names_and_their_owner() -> None:
    key = make_key(DIGEST, encrypted=True)
    dek = "ab" * 16
    assert record_owner(data_key_record(key, dek)) == key
    assert record_owner(touch_record(key)) == key
    assert record_owner(f"keys/{key}/../../x") is None and record_owner("tmp/x") is None
    with pytest.raises(InvalidKey):
        data_key_record(key, "../../etc")
