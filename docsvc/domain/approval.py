"""Approval chains and delegations: the pure rules.

A chain is a list of steps run in order; a step has one or more approvers and completes when all
of them (mode ``all``) or any one (mode ``any``) approved. The signer's step is ``sign``; the
registry's ``issue`` step closes the chain. Approvals are bound to the SHA-256 of the content
they saw: a new version restarts the chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from docsvc.errors import InvalidInput, Msg


class StepKind(StrEnum):
    REVIEW = "review"  # the unit head reviews the content
    APPROVE = "approve"  # format check / approval
    SIGN = "sign"  # the competent person signs digitally
    ISSUE = "issue"  # the registry numbers, seals and sends


class AuthorityForm(StrEnum):
    """Shown above the signer's title (Decree 30): e.g. 'KT. CHỦ TỊCH' then 'PHÓ CHỦ TỊCH'."""

    KT = "KT"  # ký thay: a deputy signs for the head
    TL = "TL"  # thừa lệnh: by order
    TUQ = "TUQ"  # thừa ủy quyền: by written, time-limited authorisation; cannot be re-delegated
    Q = "Q"  # quyền: acting head
    TM = "TM"  # thay mặt: on behalf of a collective

    @property
    def prefix(self) -> str:
        return f"{self.value}."


APPROVER_ROLES = ("unit_head", "leader", "clerk", "officer")


@dataclass(frozen=True)
class StepSpec:
    kind: StepKind
    mode: str
    title: str
    approvers: tuple[dict[str, Any], ...]


def parse_steps(raw: list[dict[str, Any]]) -> list[StepSpec]:
    """Validate a template's steps: at least one step; exactly one sign step, followed only by the
    issue step; the issue step last. Approvers are {"user_id": n} or {"role": r} (optionally with
    "unit": "drafting" for the drafting unit's heads)."""
    if not isinstance(raw, list) or not raw:
        raise InvalidInput(Msg("approval.chain_needs_least_one_step",
                               "a chain needs at least one step"), {"field": "steps"})
    steps: list[StepSpec] = []
    for i, item in enumerate(raw):
        where = {"field": f"steps.{i}"}
        if not isinstance(item, dict):
            raise InvalidInput(f"step {i + 1} must be an object", where)
        try:
            kind = StepKind(str(item.get("kind")))
        except ValueError:
            raise InvalidInput(f"step {i + 1}: kind must be one of review, approve, sign, issue", where) from None
        mode = item.get("mode", "all")
        if mode not in ("all", "any"):
            raise InvalidInput(f"step {i + 1}: mode must be 'all' or 'any'", where)
        approvers = item.get("approvers") or []
        if kind is StepKind.ISSUE:
            approvers = approvers or [{"role": "clerk"}]
            mode = "any"
        if not approvers:
            raise InvalidInput(f"step {i + 1}: name at least one approver", where)
        for a in approvers:
            if not isinstance(a, dict) or not (
                    (set(a) == {"user_id"} and isinstance(a["user_id"], int))
                    or (a.get("role") in APPROVER_ROLES and set(a) <= {"role", "unit"}
                        and a.get("unit", "drafting") == "drafting")):
                raise InvalidInput(f"step {i + 1}: an approver is {{\"user_id\": n}} or {{\"role\": one of "
                                   f"{', '.join(APPROVER_ROLES)}}}", where)
        if kind is StepKind.SIGN and mode != "any" and len(approvers) > 1:
            raise InvalidInput(f"step {i + 1}: one person signs: use mode 'any' to offer several signers", where)
        steps.append(StepSpec(kind, mode, str(item.get("title") or _DEFAULT_TITLES[kind])[:200], tuple(approvers)))
    kinds = [s.kind for s in steps]
    if kinds.count(StepKind.SIGN) != 1:
        raise InvalidInput(Msg("approval.chain_has_exactly_one_sign_step",
                               "a chain has exactly one sign step"), {"field": "steps"})
    if kinds.count(StepKind.ISSUE) != 1 or kinds[-1] is not StepKind.ISSUE:
        raise InvalidInput(Msg("approval.chain_ends_with_registry_issue_step",
                               "a chain ends with the registry's issue step"), {"field": "steps"})
    if kinds.index(StepKind.SIGN) != len(kinds) - 2:
        raise InvalidInput(Msg("approval.sign_step_comes_right_before_issue",
                               "the sign step comes right before the issue step"), {"field": "steps"})
    return steps


_DEFAULT_TITLES = {StepKind.REVIEW: "Lãnh đạo đơn vị xem xét", StepKind.APPROVE: "Kiểm tra thể thức, phê duyệt",
                   StepKind.SIGN: "Ký ban hành", StepKind.ISSUE: "Văn thư cấp số, phát hành"}

DEFAULT_CHAIN: list[dict[str, Any]] = [
    {"kind": "review", "mode": "any", "approvers": [{"role": "unit_head", "unit": "drafting"}]},
    {"kind": "sign", "mode": "any", "approvers": [{"role": "leader"}]},
    {"kind": "issue", "mode": "any", "approvers": [{"role": "clerk"}]},
]


POSITIVE = frozenset({"approved", "signed", "issued"})  # decisions that move a chain forward


def step_complete(mode: str, decisions: list[str | None]) -> bool:
    approved = [d for d in decisions if d in POSITIVE]
    return bool(approved) if mode == "any" else len(approved) == len(decisions)


@dataclass(frozen=True)
class DelegationRule:
    form: AuthorityForm
    valid_from: date
    valid_until: date
    type_codes: tuple[str, ...] | None
    revoked: bool

    def covers(self, day: date, type_code: str | None) -> bool:
        if self.revoked or not self.valid_from <= day <= self.valid_until:
            return False
        return self.type_codes is None or (type_code or "cong_van") in self.type_codes


def check_new_delegation(form: AuthorityForm, valid_from: date, valid_until: date, authorisation_ref: str,
                         parent_form: AuthorityForm | None, today: date) -> None:
    """TUQ needs a written, time-limited authorisation and cannot be passed on (DOMAIN.md)."""
    if valid_until < valid_from:
        raise InvalidInput("valid_until is before valid_from", {"field": "valid_until"})
    if valid_until < today:
        raise InvalidInput("the delegation would already have ended", {"field": "valid_until"})
    if form is AuthorityForm.TUQ:
        if not authorisation_ref.strip():
            raise InvalidInput("TUQ needs the written authorisation (its number and date)",
                               {"field": "authorisation_ref"})
        if (valid_until - valid_from).days > 366:
            raise InvalidInput("a TUQ authorisation is time-limited (at most one year)", {"field": "valid_until"})
    if parent_form is AuthorityForm.TUQ:
        raise InvalidInput("authority received by TUQ cannot be delegated again", {"field": "parent_id"})
