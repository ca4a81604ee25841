"""Pure document rules: urgency, status transitions, numbers and notations, duplicate keys, series."""

from __future__ import annotations

import pytest

from docsvc.domain.documents import (
    INITIAL_STATUS,
    TRANSITIONS,
    Direction,
    Status,
    Urgency,
    can_transition,
    check_transition,
    duplicate_key,
    format_number,
    incoming_series,
    notation_for,
    number_notation,
    outgoing_series,
    split_number_notation,
)
from docsvc.errors import InvalidState

IN, OUT, INTERNAL = Direction.INCOMING, Direction.OUTGOING, Direction.INTERNAL


@pytest.mark.parametrize("value, expected", [
    (0, Urgency.NORMAL), ("3", Urgency.HOA_TOC), ("khan", Urgency.KHAN), ("  Thượng khẩn ", Urgency.THUONG_KHAN),
    ("HỎA TỐC", Urgency.HOA_TOC), ("thuong_khan", Urgency.THUONG_KHAN), ("Thường", Urgency.NORMAL),
])
def test_urgency_parse(value: str | int, expected: Urgency) -> None:
    assert Urgency.parse(value) is expected


@pytest.mark.parametrize("value", ["urgent", "", "khẩn cấp", 4, "9"])
def test_urgency_parse_refuses_unknown_values(value: str | int) -> None:
    with pytest.raises(ValueError):
        Urgency.parse(value)


def test_urgency_order_and_labels() -> None:
    assert Urgency.NORMAL < Urgency.KHAN < Urgency.THUONG_KHAN < Urgency.HOA_TOC
    assert [u.label_vi for u in Urgency] == ["Thường", "Khẩn", "Thượng khẩn", "Hỏa tốc"]


def test_initial_status_per_direction() -> None:
    assert INITIAL_STATUS == {IN: Status.RECEIVED, OUT: Status.DRAFT, INTERNAL: Status.DRAFT}
    assert all(s.label_vi for s in Status)


@pytest.mark.parametrize("direction, current, target", [
    (IN, Status.RECEIVED, Status.REGISTERED), (IN, Status.RECEIVED, Status.RETURNED),
    (IN, Status.REGISTERED, Status.ASSIGNED), (IN, Status.ASSIGNED, Status.ASSIGNED),  # re-assigned
    (IN, Status.IN_PROGRESS, Status.COMPLETED), (IN, Status.COMPLETED, Status.IN_PROGRESS),  # reopened
    (OUT, Status.DRAFT, Status.IN_REVIEW), (OUT, Status.IN_REVIEW, Status.APPROVED),
    (OUT, Status.APPROVED, Status.SIGNED), (OUT, Status.SIGNED, Status.ISSUED), (OUT, Status.ISSUED, Status.RECALLED),
    (OUT, Status.SIGNED, Status.DRAFT), (INTERNAL, Status.APPROVED, Status.DRAFT),
])
def test_allowed_transitions(direction: Direction, current: Status, target: Status) -> None:
    assert can_transition(direction, current, target)
    check_transition(direction, current, target)


@pytest.mark.parametrize("direction, current, target", [
    (IN, Status.RECEIVED, Status.COMPLETED),  # not registered yet
    (IN, Status.RETURNED, Status.REGISTERED), (IN, Status.WITHDRAWN, Status.IN_PROGRESS),  # frozen
    (IN, Status.RECEIVED, Status.DRAFT),  # an outgoing state
    (OUT, Status.DRAFT, Status.SIGNED), (OUT, Status.DRAFT, Status.ISSUED),  # no skipping approval or signature
    (OUT, Status.IN_REVIEW, Status.SIGNED), (OUT, Status.ISSUED, Status.DRAFT),  # issued stays issued
    (OUT, Status.RECALLED, Status.ISSUED), (OUT, Status.DRAFT, Status.REGISTERED),
    (INTERNAL, Status.ISSUED, Status.SIGNED),
])
def test_refused_transitions(direction: Direction, current: Status, target: Status) -> None:
    assert not can_transition(direction, current, target)
    with pytest.raises(InvalidState) as caught:
        check_transition(direction, current, target)
    assert caught.value.details == {"status": current.value, "wanted": target.value}


def test_outgoing_and_internal_share_their_transitions_and_frozen_states_lead_nowhere() -> None:
    for (direction, current), targets in TRANSITIONS.items():
        if direction is OUT:
            assert TRANSITIONS[(INTERNAL, current)] == targets
    for frozen in (Status.RECALLED, Status.WITHDRAWN, Status.RETURNED):
        assert all(not can_transition(d, frozen, t) for d in Direction for t in Status)


@pytest.mark.parametrize("number, text", [(1, "01"), (9, "09"), (10, "10"), (1234, "1234")])
def test_format_number_pads_below_ten(number: int, text: str) -> None:
    assert format_number(number) == text


@pytest.mark.parametrize("number", [0, -1])
def test_format_number_starts_at_one(number: int) -> None:
    with pytest.raises(ValueError):
        format_number(number)


def test_notation_for() -> None:
    assert notation_for(type_code="QĐ", agency_abbr="UBND") == "QĐ-UBND"
    assert notation_for(type_code="QĐ", agency_abbr="UBND", unit_abbr="VP") == "QĐ-UBND"  # typed: no unit
    assert notation_for(type_code=None, agency_abbr="UBND", unit_abbr="VP") == "UBND-VP"  # công văn
    with pytest.raises(ValueError):
        notation_for(type_code="", agency_abbr="UBND")


@pytest.mark.parametrize("number, notation, text", [
    (5, "QĐ-UBND", "05/QĐ-UBND"), (15, "QĐ-UBND", "15/QĐ-UBND"), ("007", "CV", "007/CV"),
    (None, "QĐ-UBND", "QĐ-UBND"), ("", None, ""), (3, None, "03"), ("12", "", "12"),
])
def test_number_notation(number: int | str | None, notation: str | None, text: str) -> None:
    assert number_notation(number, notation) == text


@pytest.mark.parametrize("text, parts", [
    ("15/QĐ-UBND", ("15", "QĐ-UBND")), ("  07 / CV-VP  ", ("07", "CV-VP")),
    ("QĐ-UBND", (None, "QĐ-UBND")), ("", (None, None)), ("   ", (None, None)),
    ("12345678901/X", ("12345678901", "X")),
    ("123456789012/X", (None, "123456789012/X")),  # a number longer than CodeNumber's 11 digits
    ("15/" + "X" * 31, (None, "15/" + "X" * 31)),  # a notation longer than CodeNotation's 30 characters
    ("15//QĐ", (None, "15//QĐ")),
])
def test_split_number_notation(text: str, parts: tuple[str | None, str | None]) -> None:
    assert split_number_notation(text) == parts


def test_duplicate_key_ignores_case_spacing_diacritics_and_leading_zeros() -> None:
    key = duplicate_key("15", "QĐ-UBND", "Ủy ban nhân dân tỉnh")
    assert key is not None
    assert duplicate_key("015", "qđ - ubnd", "ỦY BAN NHÂN DÂN TỈNH ") == key
    assert duplicate_key("15", "QD_UBND", "Uy ban nhan dan tinh") == key
    assert duplicate_key("16", "QĐ-UBND", "Ủy ban nhân dân tỉnh") != key
    assert duplicate_key("15", "QĐ-UBND", "Sở Nội vụ") != key
    assert duplicate_key("15", "NQ-UBND", "Ủy ban nhân dân tỉnh") != key


@pytest.mark.parametrize("number, notation", [(None, "QĐ-UBND"), ("15", None), ("", "QĐ"), ("15", "")])
def test_duplicate_key_needs_number_and_notation(number: str | None, notation: str | None) -> None:
    assert duplicate_key(number, notation, "UBND") is None


@pytest.mark.parametrize("secrecy, is_copy, series", [(0, False, "normal"), (1, False, "secret"),
                                                      (3, False, "secret"), (0, True, "copy"), (2, True, "copy")])
def test_outgoing_series(secrecy: int, is_copy: bool, series: str) -> None:
    assert outgoing_series(secrecy, is_copy) == series


def test_incoming_series() -> None:
    assert [incoming_series(s) for s in (0, 1, 2, 3)] == ["normal", "secret", "secret", "secret"]
