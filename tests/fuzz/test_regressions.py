"""Regression tests for the 5xx answers the fuzzers found (each was a 500 before its fix)."""

from __future__ import annotations

from tests.helpers import assert_error, upload


def test_calendar_day_outside_the_calendar_is_400(api) -> None:  # type: ignore[no-untyped-def]
    r = api.as_user("quantri").put("/api/v1/calendar", json={"day": "0001-01-01", "workday": False, "name": "x"})
    assert_error(r, 400)


def test_ids_beyond_the_database_integer_range_are_404_or_400(api) -> None:  # type: ignore[no-untyped-def]
    clerk = api.as_user("vanthu")
    assert_error(clerk.get("/api/v1/documents/99999999999999999999"), 404)
    assert_error(clerk.get("/api/v1/documents/2147483648"), 404)
    assert_error(clerk.post("/api/v1/documents/1/grants", json={"user_id": 2**40, "reason": "x"}), 400)
    assert_error(upload(clerk, drafting_unit_id=str(2**40), direction="outgoing"), 400)


def test_nul_characters_are_400(api) -> None:  # type: ignore[no-untyped-def]
    clerk = api.as_user("vanthu")
    assert_error(upload(clerk, subject="Công văn\x00"), 400)
    assert_error(clerk.get("/api/v1/search", query_string={"q": "a\x00b"}), 400)


def test_too_long_number_or_notation_is_400(api) -> None:  # type: ignore[no-untyped-def]
    clerk = api.as_user("vanthu")
    assert_error(upload(clerk, number_notation="1/" + "A" * 40), 400)  # CodeNotation has 30 characters
    assert_error(upload(clerk, number_notation="x" * 42), 400)
