"""Assigning, signing and issuing many documents in one action.

Each kind is a per-item callable of the generic batch job (:mod:`docsvc.services.batches.jobs`)
that calls the single action's service method — the same rules, state checks and audit event per
document as one at a time. Another signing mode (a signer-side key, a remote signing service)
plugs in as another kind with its own per-item callable.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from docsvc.domain.identity import Actor, RequestOrigin, Role
from docsvc.errors import InvalidInput, PermissionDenied
from docsvc.services.batches.jobs import BatchService, ItemContext
from docsvc.services.incoming import AssignmentInput, IncomingService, Target
from docsvc.services.outgoing import OutgoingService, RecipientInput

MAX_DOCUMENTS = 500


class BatchActions:
    def __init__(self, batches: BatchService, incoming: IncomingService, outgoing: OutgoingService) -> None:
        self.batches = batches
        self.incoming = incoming
        self.outgoing = outgoing
        batches.register_kind("assign", self._assign_item)
        batches.register_kind("sign", self._sign_item)
        batches.register_kind("issue", self._issue_item)

    # ------------------------------------------------------------ assign
    def assign_many(self, actor: Actor, rows: list[tuple[int, AssignmentInput]]) -> dict[str, Any]:
        """One instruction per row (the API gives the same one to every row when asked)."""
        if not actor.has(Role.LEADER):
            raise PermissionDenied("only a leader of the agency instructs and assigns incoming documents")
        _check_documents([doc_id for doc_id, _ in rows])
        return self.batches.start(actor, "assign", [{"document_id": doc_id, "assignment": _assignment_dict(a)}
                                                    for doc_id, a in rows])

    def _assign_item(self, ctx: ItemContext) -> dict[str, Any]:
        data = _assignment_of(ctx.input["assignment"])
        view = self.incoming.assign(ctx.actor, ctx.input["document_id"], data, origin=_origin(ctx))
        return {"document_id": view.data["id"], "status": view.data["status"], "warnings": view.warnings}

    # ------------------------------------------------------------ sign
    def sign_many(self, actor: Actor, doc_ids: list[int], *, pin: str) -> dict[str, Any]:
        """The PIN is checked once here (a wrong PIN fails the request, not N items) and unlocks the
        key into the key ring, where it stays open for the batch; the PIN itself is kept only in
        this process's memory until the batch ends."""
        if not pin:
            raise InvalidInput("enter your PIN", {"field": "pin"})
        _check_documents(doc_ids)
        self.outgoing.unlock_signer(actor, pin)
        return self.batches.start(actor, "sign", [{"document_id": d} for d in doc_ids],
                                  params={"needs_secret": True}, secret=pin)

    def _sign_item(self, ctx: ItemContext) -> dict[str, Any]:
        if ctx.secret is None:
            raise InvalidInput("the PIN of this batch is no longer held: start the batch again")
        view = self.outgoing.sign(ctx.actor, ctx.input["document_id"], pin=ctx.secret, origin=_origin(ctx))
        return {"document_id": view.data["id"], "status": view.data["status"]}

    # ------------------------------------------------------------ issue
    def issue_many(self, actor: Actor, rows: list[tuple[int, list[RecipientInput]]]) -> dict[str, Any]:
        """Numbers are given in the order of ``rows`` (the order shown): items run one after the other."""
        if not actor.has(Role.CLERK):
            raise PermissionDenied("only the agency's registry issues documents")
        _check_documents([doc_id for doc_id, _ in rows])
        return self.batches.start(actor, "issue", [{"document_id": doc_id,
                                                    "recipients": [asdict(r) for r in recipients]}
                                                   for doc_id, recipients in rows])

    def _issue_item(self, ctx: ItemContext) -> dict[str, Any]:
        recipients = [RecipientInput(**r) for r in ctx.input["recipients"]]
        view = self.outgoing.issue(ctx.actor, ctx.input["document_id"], recipients=recipients, origin=_origin(ctx))
        return {"document_id": view.data["id"], "status": view.data["status"],
                "number_notation": view.data.get("number_notation")}


def _check_documents(doc_ids: list[int]) -> None:
    if not doc_ids:
        raise InvalidInput("select at least one document", {"field": "documents"})
    if len(doc_ids) > MAX_DOCUMENTS:
        raise InvalidInput(f"select at most {MAX_DOCUMENTS} documents", {"field": "documents"})
    if len(set(doc_ids)) != len(doc_ids):
        raise InvalidInput("a document is selected twice", {"field": "documents"})


def _origin(ctx: ItemContext) -> RequestOrigin:
    """Audit events of batch items say which batch they belong to (the request that started it is gone)."""
    return RequestOrigin(user_agent=f"docsvc batch {ctx.batch_id}", channel="task")


def _assignment_dict(a: AssignmentInput) -> dict[str, Any]:
    return {"lead": asdict(a.lead), "co": [asdict(t) for t in a.co], "info": [asdict(t) for t in a.info],
            "deadline_days": a.deadline_days, "deadline": a.deadline.isoformat() if a.deadline else None,
            "instruction": a.instruction}


def _assignment_of(d: dict[str, Any]) -> AssignmentInput:
    return AssignmentInput(lead=Target(**d["lead"]), co=[Target(**t) for t in d["co"]],
                           info=[Target(**t) for t in d["info"]], deadline_days=d["deadline_days"],
                           deadline=date.fromisoformat(d["deadline"]) if d["deadline"] else None,
                           instruction=d["instruction"])
