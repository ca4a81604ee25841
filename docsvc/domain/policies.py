"""Who may do what to a document now: one policy per capability.

Each ``may_*`` function answers for one action, from the actor and the facts of the document (and,
where the rule needs one, a fact the service looked up: an open assignment, the chain's turn). The
services enforce the answer (``decision.enforce()`` raises the refusal) and the list of offered
actions (``services/actions.py``) shows a button exactly when the answer is yes, so the two can
never disagree. Pure functions: no Flask, no SQL.

The reader rule (clearance + relationship) is ``docsvc.domain.access.may_read``; every policy here
applies on top of it (services load the document through the reader filter first).

Work done by the system itself (server-side CLI, periodic tasks) runs as :data:`SYSTEM`, an explicit
actor that passes every policy: there is no implicit "no actor" that skips checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from docsvc.domain.access import may_read
from docsvc.domain.documents import ASSIGNABLE, EDITABLE, FROZEN, Direction, Status, can_transition
from docsvc.domain.identity import Actor, Role, Secrecy
from docsvc.errors import DomainError, Gone, InvalidInput, InvalidState, Msg, PermissionDenied

__all__ = ["ALLOW", "DRAFTERS", "SIGNING_ROLES", "SYSTEM", "ContentRule", "Decision", "DocumentFacts",
           "content_rule", "is_system", "may_add_version", "may_assign", "may_complete", "may_confirm_recall",
           "may_copy", "may_create", "may_grant", "may_hold_signing_key", "may_issue", "may_place_positions",
           "may_read", "may_recall", "may_register", "may_replace_outside", "may_replace_with",
           "may_update_outside", "may_report_progress",
           "may_return_to_sender", "may_submit", "transition"]

#: The system (server-side CLI, periodic tasks). It has no roles and no agency, so any code that
#: forgets to ask :func:`is_system` fails closed; the policies let it through explicitly.
SYSTEM = Actor(user_id=0, username="system", full_name="Hệ thống", agency_id=0, roles=frozenset(),
               clearance=Secrecy.TUYET_MAT)


def is_system(actor: Actor | None) -> bool:
    return actor is SYSTEM


class DocumentFacts(Protocol):
    """What the policies read of a document (the ORM ``Document`` has all of it)."""

    agency_id: int
    direction: str
    status: str
    created_by: int | None
    secrecy: int
    content_offline: bool
    current_version: int
    content_destroyed_at: datetime | None


@dataclass(frozen=True)
class Decision:
    """Yes, or no with the error a service raises (a permission refusal or a wrong state)."""

    allowed: bool
    refusal: type[DomainError] | None = None
    message: str = ""
    details: Any = None

    def __bool__(self) -> bool:
        return self.allowed

    def enforce(self) -> None:
        if not self.allowed:
            assert self.refusal is not None
            raise self.refusal(self.message, self.details)


ALLOW = Decision(True)


def _deny(message: str) -> Decision:
    return Decision(False, PermissionDenied, message)


def _state(message: str, details: Any = None) -> Decision:
    return Decision(False, InvalidState, message, details)


def transition(direction: Direction, current: Status, target: Status) -> Decision:
    """The state machine's answer (``check_transition`` as a decision)."""
    if can_transition(direction, current, target):
        return ALLOW
    return _state(f"a {direction.value} document cannot go from '{current.value}' to '{target.value}'",
                  {"status": current.value, "wanted": target.value})


def _of_agency(actor: Actor, doc: DocumentFacts, *roles: Role) -> bool:
    return actor.agency_id == doc.agency_id and actor.has(*roles)


def _incoming(doc: DocumentFacts) -> bool:
    return doc.direction == Direction.INCOMING.value


def _not_incoming(action: str) -> Decision:
    return _state(f"only incoming documents are {action}")


# ---------------------------------------------------------------- new documents
#: Who drafts outgoing and internal documents.
DRAFTERS = (Role.OFFICER, Role.UNIT_HEAD, Role.LEADER, Role.CLERK)


def may_create(actor: Actor, direction: Direction, secrecy: Secrecy) -> Decision:
    """Receive an incoming document (the registry) or start a draft (the drafters), within clearance."""
    if is_system(actor):
        return ALLOW
    if direction is Direction.INCOMING and not actor.has(Role.CLERK):
        return _deny(Msg("documents.only_registry_clerk_receives_incoming_documents",
                         "only the registry (clerk) receives incoming documents"))
    if direction is not Direction.INCOMING and not actor.has(*DRAFTERS):
        return _deny(Msg("documents.your_role_cannot_draft_documents", "your role cannot draft documents"))
    if int(actor.clearance) < secrecy:
        return _deny(f"your clearance does not cover {secrecy.label_vi} documents")
    return ALLOW


# ---------------------------------------------------------------- signing keys
#: Who signs documents, and so may hold a signing certificate (their own key, token or remote credential).
SIGNING_ROLES = (Role.LEADER, Role.UNIT_HEAD, Role.CLERK, Role.OFFICER)


def may_hold_signing_key(holder: Actor) -> Decision:
    """``holder`` may be given (or register) a signing certificate: he signs documents."""
    if is_system(holder):
        return ALLOW
    if not holder.has(*SIGNING_ROLES):
        return _deny(Msg("policy.role_does_not_sign_documents", "your role does not sign documents"))
    return ALLOW


# ---------------------------------------------------------------- secret content
@dataclass(frozen=True)
class ContentRule:
    """What this deployment does with the content (file bytes, extracted text) of a document of a
    secrecy level (DOMAIN.md, Secrecy): a connected deployment keeps the content of a secret
    document off the system (metadata only); an isolated-LAN deployment keeps it encrypted at rest.
    The one place that says so: single uploads, batch receiving, the review grid and signed
    renditions all ask :func:`content_rule`."""

    secrecy: Secrecy
    kept: bool  # the content may be stored on this system at all
    encrypted: bool  # ... and then only encrypted at rest

    @property
    def offline(self) -> bool:
        return not self.kept

    def may_store(self) -> Decision:
        """Storing content of this level here: refused (metadata only) on a connected deployment."""
        if self.kept:
            return ALLOW
        return Decision(False, InvalidInput,
                        f"this deployment is connected to outside networks: the content of a "
                        f"{self.secrecy.label_vi} document must stay offline. Register its metadata only.",
                        {"field": "file", "reason": "secret_content_offline"})


def content_rule(secrecy: Secrecy | int, policy: str) -> ContentRule:
    """The rule for content of ``secrecy`` under the deployment's ``policy`` ("connected" or
    "isolated", DOCSVC_SECRECY_POLICY). Unknown policies are treated as connected (fail closed)."""
    level = Secrecy(int(secrecy))
    if level == Secrecy.NONE:
        return ContentRule(level, kept=True, encrypted=False)
    if policy == "isolated":
        return ContentRule(level, kept=True, encrypted=True)
    return ContentRule(level, kept=False, encrypted=False)


# ---------------------------------------------------------------- incoming
def may_register(actor: Actor, doc: DocumentFacts) -> Decision:
    if is_system(actor):
        return ALLOW
    if not _incoming(doc):
        return _not_incoming("registered")
    if not _of_agency(actor, doc, Role.CLERK):
        return _deny(Msg("policy.only_agency_registry_registers_incoming_documents",
                         "only the agency's registry registers incoming documents"))
    return transition(Direction.INCOMING, Status(doc.status), Status.REGISTERED)


def may_return_to_sender(actor: Actor, doc: DocumentFacts) -> Decision:
    if is_system(actor):
        return ALLOW
    if not _incoming(doc):
        return _not_incoming("returned to their sender")
    if not _of_agency(actor, doc, Role.CLERK):
        return _deny(Msg("policy.only_agency_registry_returns_documents_their",
                         "only the agency's registry returns documents to their sender"))
    return transition(Direction.INCOMING, Status(doc.status), Status.RETURNED)


def may_assign(actor: Actor, doc: DocumentFacts) -> Decision:
    """The leader's instruction (lead handler, co-handlers, readers, deadline)."""
    if is_system(actor):
        return ALLOW
    if not _incoming(doc):
        return _not_incoming("assigned")
    if not _of_agency(actor, doc, Role.LEADER):
        return _deny(Msg("policy.only_leader_agency_instructs_assigns_incoming",
                         "only a leader of the agency instructs and assigns incoming documents"))
    status = Status(doc.status)
    if status not in ASSIGNABLE:
        return _state(f"a document that is {status.label_vi.lower()} cannot be assigned; register it first"
                      if status is Status.RECEIVED else
                      f"a document that is {status.label_vi.lower()} cannot be assigned")
    return ALLOW


def may_report_progress(actor: Actor, doc: DocumentFacts, *, handler: bool) -> Decision:
    """``handler``: the actor holds an open assignment on the document (``incoming.open_assignment``)."""
    if is_system(actor):
        return ALLOW
    if not _incoming(doc):
        return _not_incoming("handled")
    if not handler:
        return _deny(Msg("policy.only_handler_document_reports_progress",
                         "only a handler of this document reports progress"))
    status = Status(doc.status)
    if status is Status.IN_PROGRESS:
        return ALLOW
    return transition(Direction.INCOMING, status, Status.IN_PROGRESS)


def may_complete(actor: Actor, doc: DocumentFacts, *, lead_handler: bool) -> Decision:
    """``lead_handler``: the actor holds the open lead assignment."""
    if is_system(actor):
        return ALLOW
    if not _incoming(doc):
        return _not_incoming("handled")
    if not (_of_agency(actor, doc, Role.LEADER) or lead_handler):
        return _deny(Msg("policy.only_lead_handler_leader_completes_handling",
                         "only the lead handler or a leader completes the handling"))
    return transition(Direction.INCOMING, Status(doc.status), Status.COMPLETED)


def may_confirm_recall(actor: Actor, doc: DocumentFacts, *, awaiting_confirmation: bool) -> Decision:
    """``awaiting_confirmation``: the sender recalled the document and nobody confirmed it yet."""
    if is_system(actor):
        return ALLOW
    if not _of_agency(actor, doc, Role.CLERK):
        return _deny(Msg("policy.registry_receiving_agency_confirms_recall",
                         "the registry of the receiving agency confirms a recall"))
    if Status(doc.status) is not Status.WITHDRAWN or not awaiting_confirmation:
        return _state(Msg("policy.document_has_not_been_recalled_sender",
                          "this document has not been recalled by its sender"))
    return ALLOW


# ---------------------------------------------------------------- outgoing
def may_submit(actor: Actor, doc: DocumentFacts) -> Decision:
    if is_system(actor):
        return ALLOW
    if _incoming(doc):
        return _state("incoming documents are not submitted for approval")
    if doc.created_by != actor.user_id:
        return _deny(Msg("policy.only_drafter_submits_draft", "only the drafter submits the draft"))
    if Status(doc.status) is not Status.DRAFT:  # in review → in review is a restart, not a second chain
        return _state(Msg("policy.only_draft_submitted_one_already_approval",
                          "only a draft is submitted: this one is already in its approval chain"),
                      {"status": doc.status})
    if doc.content_offline or doc.current_version == 0:
        return _state(Msg("policy.upload_draft_file_before_submitting", "upload the draft's file before submitting it"))
    return transition(Direction(doc.direction), Status.DRAFT, Status.IN_REVIEW)


#: States in which the registry may still say where page 1 gets the number and date.
PLACEABLE = frozenset({Status.DRAFT, Status.IN_REVIEW, Status.APPROVED})


def may_place_positions(actor: Actor, doc: DocumentFacts) -> Decision:
    """The agency's registry places the number and date of an outgoing document not yet signed."""
    if is_system(actor):
        return ALLOW
    if not _of_agency(actor, doc, Role.CLERK):
        return _deny("the agency's registry places the number and date")
    if _incoming(doc) or Status(doc.status) not in PLACEABLE or doc.content_offline:
        return _state("the number and date are placed on an outgoing document before it is signed")
    return ALLOW


def may_issue(actor: Actor, doc: DocumentFacts, *, issue_turn: bool) -> Decision:
    """``issue_turn``: the document's approval chain waits for this actor's issue step."""
    if is_system(actor):
        return ALLOW
    if not _of_agency(actor, doc, Role.CLERK):
        return _deny(Msg("policy.only_agency_registry_issues_documents", "only the agency's registry issues documents"))
    decision = transition(Direction(doc.direction), Status(doc.status), Status.ISSUED)
    if not decision:
        return decision
    if not issue_turn:
        return _deny(Msg("policy.document_not_waiting_you_issue", "this document is not waiting for you to issue it"))
    return ALLOW


def may_recall(actor: Actor, doc: DocumentFacts) -> Decision:
    if is_system(actor):
        return ALLOW
    if not _of_agency(actor, doc, Role.LEADER, Role.CLERK):
        return _deny(Msg("policy.only_issuing_agency_leaders_registry_recall",
                         "only the issuing agency's leaders or registry recall a document"))
    return transition(Direction(doc.direction), Status(doc.status), Status.RECALLED)


def _correctable_outside(actor: Actor, doc: DocumentFacts, *, sent_outside: bool, action: str) -> Decision:
    """What an update and a replacement both need: the issuing agency's registry, an issued
    document that is not secret, and a package that actually went out to an outside recipient."""
    if is_system(actor):
        return ALLOW
    if not _of_agency(actor, doc, Role.CLERK):
        return _deny(Msg("policy.only_issuing_registry_updates_replaces_outside",
                         "only the issuing agency's registry sends an update or a replacement to outside recipients"))
    if _incoming(doc) or Status(doc.status) is not Status.ISSUED:
        return _state(Msg("policy.only_issued_documents_updated_replaced_outside",
                          "only an issued document is updated or replaced at outside recipients"),
                      {"status": doc.status})
    if doc.secrecy:
        return _state(Msg("policy.secret_documents_not_sent_outside",
                          "secret documents are not sent to outside agencies electronically"))
    if not sent_outside:
        return _state(Msg("policy.document_not_sent_outside_yet",
                          "this document has not been sent to any outside recipient: there is nothing to "
                          "update or replace there"), {"action": action})
    return ALLOW


def may_update_outside(actor: Actor, doc: DocumentFacts, *, sent_outside: bool) -> Decision:
    """Corrected metadata of an issued document, sent to the outside recipients that have it (edXML
    business type update). ``sent_outside``: a package of it was accepted by a transport."""
    return _correctable_outside(actor, doc, sent_outside=sent_outside, action="update")


def may_replace_outside(actor: Actor, doc: DocumentFacts, *, sent_outside: bool) -> Decision:
    """Send another issued document to this document's outside recipients as its replacement (edXML
    business type replace)."""
    return _correctable_outside(actor, doc, sent_outside=sent_outside, action="replace")


def may_replace_with(actor: Actor, old: DocumentFacts, new: DocumentFacts) -> Decision:
    """Whether ``new`` may go out as the replacement of ``old``: issued by the same agency, not
    secret, and another document."""
    if new is old:  # one session maps one row to one object
        return _state(Msg("policy.document_cannot_replace_itself", "a document cannot replace itself"))
    if new.agency_id != old.agency_id or _incoming(new) or Status(new.status) is not Status.ISSUED:
        return _state(Msg("policy.replacement_issued_same_agency",
                          "the replacement is a document issued by the same agency"))
    if new.secrecy:
        return _state(Msg("policy.secret_documents_not_sent_outside",
                          "secret documents are not sent to outside agencies electronically"))
    if not is_system(actor) and not _of_agency(actor, new, Role.CLERK):
        return _deny(Msg("policy.only_issuing_registry_updates_replaces_outside",
                         "only the issuing agency's registry sends an update or a replacement to outside recipients"))
    return ALLOW


# ---------------------------------------------------------------- every document
def may_add_version(actor: Actor, doc: DocumentFacts) -> Decision:
    """A new file version: the drafter of a draft, the registry for a received document."""
    if is_system(actor):
        return ALLOW
    status = Status(doc.status)
    if doc.content_destroyed_at is not None:
        return Decision(False, Gone, "the content of this document was destroyed after appraisal")
    if status not in EDITABLE:
        return _state(f"a {status.label_vi.lower()} document cannot get a new version", {"status": status.value})
    if doc.content_offline:
        return Decision(False, InvalidInput, "this document's content is kept offline")
    if _incoming(doc):
        if not actor.has(Role.CLERK):
            return _deny(Msg("policy.only_registry_replaces_file_received_document",
                             "only the registry replaces the file of a received document"))
    elif doc.created_by != actor.user_id:
        return _deny(Msg("policy.only_drafter_uploads_new_versions_draft",
                         "only the drafter uploads new versions of a draft"))
    return ALLOW


def may_copy(actor: Actor, doc: DocumentFacts) -> Decision:
    """An electronic copy (sao y, sao lục, trích sao) of an issued or received document."""
    if is_system(actor):
        return ALLOW
    if not actor.has(Role.CLERK):
        return _deny(Msg("policy.copies_made_registry", "copies are made by the registry"))
    if doc.content_destroyed_at is not None:
        return Decision(False, Gone, "the content of this document was destroyed after appraisal")
    if doc.content_offline:
        return _state("the content of this document is kept offline: copy it on paper")
    if Status(doc.status) in FROZEN:
        return _state(Msg("policy.recalled_withdrawn_returned_document_cannot_copied",
                          "a recalled, withdrawn or returned document cannot be copied"))
    if not _incoming(doc) and Status(doc.status) is not Status.ISSUED:
        return _state(Msg("policy.only_issued_received_documents_copied",
                          "only issued or received documents are copied"))
    if doc.current_version == 0:
        return _state("this document has no file to copy")
    return ALLOW


def may_grant(actor: Actor, doc: DocumentFacts) -> Decision:
    """An explicit read grant (need to know) to a user or unit."""
    if is_system(actor):
        return ALLOW
    if not _of_agency(actor, doc, Role.LEADER, Role.CLERK):
        return _deny("only the agency's leaders and registry grant access to its documents")
    return ALLOW
