"""A backend that is down gives StorageUnavailable (the app answers 503), quickly."""

from __future__ import annotations

import io
import socket

import pytest

from storage import ConfigurationError, StorageUnavailable, open_store


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nobody listens there once the socket is closed


def test_an_unreachable_s3_server_is_storage_unavailable() -> None:
    store = open_store("s3://docsvc-down", endpoint=f"http://127.0.0.1:{_closed_port()}", access_key="a",
                       secret_key="b", connect_timeout=1, retries=1)
    for call in (store.health, lambda: store.put(io.BytesIO(b"x")), lambda: store.stat("sha256/00/" + "0" * 64),
                 lambda: list(store.list())):
        with pytest.raises(StorageUnavailable) as err:
            call()
        assert isinstance(err.value, ConnectionError)


def test_a_local_root_that_cannot_be_created_is_a_configuration_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "file").write_text("not a folder")
    store = open_store(f"file://{tmp_path / 'file' / 'objects'}")
    with pytest.raises(ConfigurationError, match="cannot be created"):
        store.health()
    with pytest.raises(ConfigurationError):
        store.put(io.BytesIO(b"x"))
