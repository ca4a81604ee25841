"""Fuzzing the upload path and the metadata parsers (hypothesis, bounded for CI).

Every input must end in an accepted document or a clear 4xx with the one error shape; never a
5xx, a crash (any other exception), or a hang (hypothesis' deadline)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docsvc.errors import DomainError
from docsvc.services.uploads import inspect_upload
from tests.fuzz.corpus import corpus
from tests.helpers import upload

MAX = 5 * 1024 * 1024
FUZZ = settings(max_examples=150, deadline=timedelta(seconds=10), derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A corpus entry, then a few byte-level mutations: flips, truncation, splices, insertions."""
    _, data = draw(st.sampled_from(corpus()))
    data = bytearray(data)
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["flip", "cut", "splice", "insert", "dup"]))
        if not data:
            data += draw(st.binary(max_size=64))
            continue
        at = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del data[at: at + draw(st.integers(1, 4096))]
        elif op == "splice":
            _, other = draw(st.sampled_from(corpus()))
            data[at:] = other[draw(st.integers(0, max(len(other) - 1, 0))):]
        elif op == "insert":
            data[at:at] = draw(st.sampled_from([b"obj", b"endobj", b"R", b"<<", b">>", b"[", b"]", b"/Kids",
                                                b"stream\n", b"\nendstream", b"xref", b"%%EOF", b"99999 0 R"]))
        else:
            data[at:at] = data[at: at + draw(st.integers(1, 2048))]
    return bytes(data)


def _inspect(data: bytes) -> None:
    try:
        facts = inspect_upload(io.BytesIO(data), "fuzz.pdf", max_bytes=MAX)
    except DomainError as exc:
        assert 400 <= exc.status < 500 and exc.message, exc
    else:
        assert facts.page_count >= 1 and facts.size == len(data)


@pytest.mark.parametrize("name", [n for n, _ in corpus()])
def test_every_corpus_entry_is_accepted_or_refused_clearly(name: str) -> None:
    _inspect(dict(corpus())[name])


@FUZZ
@given(data=mutated())
def test_mutated_pdfs_never_crash_the_inspection(data: bytes) -> None:
    _inspect(data)


def test_corpus_through_the_api(api, container) -> None:  # type: ignore[no-untyped-def]
    """The whole upload path (inspection, signature validation on receipt, storage, row): only 201
    or a 4xx with the error shape; a refused file leaves no row."""
    clerk = api.as_user("vanthu")
    for name, data in corpus():
        r = upload(clerk, file=data, filename=f"{name}.pdf", subject=f"Tệp thử {name}")
        assert r.status_code == 201 or _clear_4xx(r), (name, r.status_code, r.get_data(as_text=True)[:300])
    _no_row_without_object(container)


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
_FIELDS = {
    "number_notation": st.one_of(_TEXT, st.from_regex(r"\A\d{1,14}/[A-ZĐ]{1,5}-[A-Z]{2,8}\Z")),
    "issued_date": st.one_of(_TEXT, st.dates().map(str)), "due_date": st.one_of(_TEXT, st.dates().map(str)),
    "urgency": st.one_of(_TEXT, st.sampled_from(["normal", "khan", "thuong_khan", "hoa_toc"])),
    "secrecy": st.one_of(_TEXT, st.sampled_from(["none", "mat", "toi_mat", "tuyet_mat"])),
    "type": st.one_of(_TEXT, st.sampled_from(["QĐ", "TB", "cong_van", "CV", "Quyết định"])),
    "page_amount": st.one_of(_TEXT, st.integers(-10, 10**12).map(str)),
    "issuing_organ_id": _TEXT, "issuing_body": _TEXT, "subject": _TEXT, "signer_name": _TEXT,
    "direction": st.one_of(_TEXT, st.sampled_from(["incoming", "outgoing", "internal"])),
    "received_via": st.one_of(_TEXT, st.sampled_from(["electronic", "paper"])),
    "drafting_unit_id": st.one_of(_TEXT, st.integers(-5, 2**40).map(str)), "language": _TEXT,
}


@settings(max_examples=60, deadline=timedelta(seconds=20), derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(fields=st.fixed_dictionaries({}, optional=_FIELDS), data=st.one_of(st.just(None), mutated()))
def test_fuzzed_metadata_and_files_through_the_api(api, fields: dict, data: bytes | None) -> None:  # type: ignore[no-untyped-def]
    clerk = api.as_user("vanthu")
    r = upload(clerk, file=data, **fields)
    assert r.status_code == 201 or _clear_4xx(r), (fields, r.status_code, r.get_data(as_text=True)[:300])


def _clear_4xx(r) -> bool:  # type: ignore[no-untyped-def]
    body = r.get_json(silent=True) or {}
    return 400 <= r.status_code < 500 and set(body) == {"error"} and bool(body["error"].get("message")) \
        and bool(body["error"].get("code"))


def _no_row_without_object(container) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from docsvc.db.models import DocumentFile
    with container.db.read() as s:
        keys = list(s.execute(select(DocumentFile.object_key)).scalars())
    for key in keys:
        container.store.stat(key)


@pytest.mark.parametrize("fields", [
    {"number_notation": "123456789012/QĐ-UBND"},  # number too long for CodeNumber (11)
    {"number_notation": "x" * 42},  # no number: all of it would be the notation (30)
    {"number_notation": "1/" + "A" * 40},
    {"page_amount": "99999999999"}, {"drafting_unit_id": str(2**63)},
    {"issued_date": "0001-01-01"}, {"issued_date": "9999-12-31"}, {"due_date": "2026-02-30"},
    {"issuing_organ_id": "000.00.00.H41-too-long"}, {"subject": "\x00"}, {"subject": " "},
])
def test_metadata_edge_cases_are_4xx_or_stored(api, fields: dict) -> None:  # type: ignore[no-untyped-def]
    r = upload(api.as_user("vanthu"), **fields)
    assert r.status_code == 201 or _clear_4xx(r), (fields, r.status_code, r.get_data(as_text=True)[:300])
