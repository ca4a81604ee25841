"""Pure approval rules: the steps of a chain (``parse_steps``), step completion, delegations."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from docsvc.domain.approval import (
    DEFAULT_CHAIN,
    AuthorityForm,
    DelegationRule,
    StepKind,
    check_new_delegation,
    parse_steps,
    step_complete,
)
from docsvc.errors import InvalidInput

SIGN = {"kind": "sign", "mode": "any", "approvers": [{"role": "leader"}]}
ISSUE = {"kind": "issue"}
REVIEW = {"kind": "review", "approvers": [{"role": "unit_head", "unit": "drafting"}]}


def test_the_default_chain_is_valid() -> None:
    steps = parse_steps(DEFAULT_CHAIN)
    assert [s.kind for s in steps] == [StepKind.REVIEW, StepKind.SIGN, StepKind.ISSUE]
    assert all(s.title for s in steps)


def test_defaults_the_issue_step_and_titles() -> None:
    steps = parse_steps([{"kind": "approve", "approvers": [{"user_id": 7}], "title": "T" * 300}, SIGN, ISSUE])
    approve, sign, issue = steps
    assert approve.mode == "all" and approve.approvers == ({"user_id": 7},) and approve.title == "T" * 200
    assert sign.title == "Ký ban hành"
    assert issue.mode == "any" and issue.approvers == ({"role": "clerk"},)  # the registry by default


def test_an_issue_step_is_always_any_of_its_approvers() -> None:
    (_, issue) = parse_steps([SIGN, {"kind": "issue", "mode": "all", "approvers": [{"user_id": 1}, {"user_id": 2}]}])
    assert issue.mode == "any" and len(issue.approvers) == 2


def test_several_signers_offered_with_mode_any() -> None:
    steps = parse_steps([{"kind": "sign", "mode": "any", "approvers": [{"user_id": 1}, {"user_id": 2}]}, ISSUE])
    assert steps[0].mode == "any" and len(steps[0].approvers) == 2


@pytest.mark.parametrize("raw, field, fragment", [
    ([], "steps", "at least one step"),
    ("review", "steps", "at least one step"),
    ([SIGN, "issue"], "steps.1", "must be an object"),
    ([{"kind": "vote", "approvers": [{"role": "leader"}]}, SIGN, ISSUE], "steps.0", "kind must be one of"),
    ([{"approvers": [{"role": "leader"}]}, SIGN, ISSUE], "steps.0", "kind must be one of"),
    ([{**REVIEW, "mode": "most"}, SIGN, ISSUE], "steps.0", "mode must be"),
    ([{"kind": "review"}, SIGN, ISSUE], "steps.0", "at least one approver"),
    ([{"kind": "review", "approvers": []}, SIGN, ISSUE], "steps.0", "at least one approver"),
    ([{"kind": "review", "approvers": [{"role": "admin"}]}, SIGN, ISSUE], "steps.0", "an approver is"),
    ([{"kind": "review", "approvers": [{"role": "unit_head", "unit": "other"}]}, SIGN, ISSUE], "steps.0",
     "an approver is"),
    ([{"kind": "review", "approvers": [{"user_id": "7"}]}, SIGN, ISSUE], "steps.0", "an approver is"),
    ([{"kind": "review", "approvers": [{"user_id": 7, "role": "leader"}]}, SIGN, ISSUE], "steps.0", "an approver is"),
    ([{"kind": "review", "approvers": ["leader"]}, SIGN, ISSUE], "steps.0", "an approver is"),
    ([{"kind": "sign", "approvers": [{"user_id": 1}, {"user_id": 2}]}, ISSUE], "steps.0", "one person signs"),
    ([REVIEW, ISSUE], "steps", "exactly one sign step"),
    ([SIGN, SIGN, ISSUE], "steps", "exactly one sign step"),
    ([REVIEW, SIGN], "steps", "ends with the registry's issue step"),
    ([SIGN, ISSUE, ISSUE], "steps", "ends with the registry's issue step"),
    ([ISSUE, SIGN], "steps", "ends with the registry's issue step"),
    ([SIGN, REVIEW, ISSUE], "steps", "the sign step comes right before the issue step"),
])
def test_invalid_chains_are_refused_with_the_step_named(raw: Any, field: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_steps(raw)
    assert caught.value.details == {"field": field}
    assert fragment in caught.value.message


@pytest.mark.parametrize("mode, decisions, complete", [
    ("any", [None, "approved"], True), ("any", [None, None], False), ("any", ["rejected", None], False),
    ("all", ["approved", "signed"], True), ("all", ["approved", None], False), ("all", ["approved", "rejected"], False),
    ("any", ["issued"], True), ("all", [], True),
])
def test_step_complete(mode: str, decisions: list[str | None], complete: bool) -> None:
    assert step_complete(mode, decisions) is complete


@pytest.mark.parametrize("rule, day, type_code, covered", [
    (DelegationRule(AuthorityForm.KT, date(2026, 1, 1), date(2026, 1, 31), None, False), date(2026, 1, 31), "QĐ", True),
    (DelegationRule(AuthorityForm.KT, date(2026, 1, 1), date(2026, 1, 31), None, False), date(2026, 2, 1), "QĐ", False),
    (DelegationRule(AuthorityForm.KT, date(2026, 1, 1), date(2026, 1, 31), None, True), date(2026, 1, 5), "QĐ", False),
    (DelegationRule(AuthorityForm.TL, date(2026, 1, 1), date(2026, 1, 31), ("QĐ",), False), date(2026, 1, 5), "QĐ",
     True),
    (DelegationRule(AuthorityForm.TL, date(2026, 1, 1), date(2026, 1, 31), ("QĐ",), False), date(2026, 1, 5), "NQ",
     False),
    (DelegationRule(AuthorityForm.TL, date(2026, 1, 1), date(2026, 1, 31), ("cong_van",), False), date(2026, 1, 5),
     None, True),  # a công văn has no type code
])
def test_delegation_covers(rule: DelegationRule, day: date, type_code: str | None, covered: bool) -> None:
    assert rule.covers(day, type_code) is covered


TODAY = date(2026, 3, 1)


@pytest.mark.parametrize("form, start, end, ref, parent, field", [
    (AuthorityForm.KT, date(2026, 3, 10), date(2026, 3, 9), "", None, "valid_until"),
    (AuthorityForm.KT, date(2026, 2, 1), date(2026, 2, 28), "", None, "valid_until"),  # already over
    (AuthorityForm.TUQ, date(2026, 3, 1), date(2026, 6, 1), "  ", None, "authorisation_ref"),
    (AuthorityForm.TUQ, date(2026, 3, 1), date(2027, 3, 3), "12/GUQ", None, "valid_until"),  # over a year
    (AuthorityForm.KT, date(2026, 3, 1), date(2026, 6, 1), "", AuthorityForm.TUQ, "parent_id"),  # no re-delegation
])
def test_refused_delegations(form: AuthorityForm, start: date, end: date, ref: str, parent: AuthorityForm | None,
                             field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_new_delegation(form, start, end, ref, parent, TODAY)
    assert caught.value.details == {"field": field}


@pytest.mark.parametrize("form, start, end, ref, parent", [
    (AuthorityForm.KT, date(2026, 3, 1), date(2026, 3, 1), "", None),
    (AuthorityForm.TUQ, date(2026, 3, 1), date(2027, 3, 1), "12/GUQ", None),
    (AuthorityForm.TL, date(2026, 1, 1), date(2026, 12, 31), "", AuthorityForm.KT),
])
def test_accepted_delegations(form: AuthorityForm, start: date, end: date, ref: str,
                              parent: AuthorityForm | None) -> None:
    check_new_delegation(form, start, end, ref, parent, TODAY)


def test_authority_prefixes() -> None:
    assert [f.prefix for f in AuthorityForm] == ["KT.", "TL.", "TUQ.", "Q.", "TM."]
