"""Domain errors told to a person, in their language.

Services raise typed errors with an English message meant for API clients. Here a message the
pages can provoke is translated: known messages exactly, messages with values by pattern, signing
failures and well-known reasons by code; anything else gets the generic sentence of its error code
with the original message as the detail (never a path, a PIN or a stack trace).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext, lazy_gettext as _l

from docsvc.errors import DomainError


def N_(message: str) -> str:
    """Marks a message for the catalogue without translating it (babel extracts N_)."""
    return message


# Messages the pages can provoke, translated as they are (msgid = the service's message).
EXACT = frozenset((
    N_("wrong username or password"),
    N_("only the agency's registry registers incoming documents"),
    N_("only the agency's registry returns documents to their sender"),
    N_("only a leader of the agency instructs and assigns incoming documents"),
    N_("only a unit head re-assigns work"),
    N_("you can only re-assign work given to you or to your unit"),
    N_("only a handler of this document reports progress"),
    N_("only the lead handler or a leader completes the handling"),
    N_("only the registry (clerk) receives incoming documents"),
    N_("your role cannot draft documents"),
    N_("only the drafter submits the draft"),
    N_("only the drafter uploads new versions of a draft"),
    N_("only the registry replaces the file of a received document"),
    N_("only the agency's registry issues documents"),
    N_("only the issuing agency's leaders or registry recall a document"),
    N_("the registry of the receiving agency confirms a recall"),
    N_("copies are made by the registry"),
    N_("this document is not waiting for your decision"),
    N_("this document is not waiting for your signature"),
    N_("this document is not waiting for you to issue it"),
    N_("registers are kept by the registry and read by leaders and archivists"),
    N_("the secret register needs a clearance"),
    N_("only an administrator may manage organisations and users"),
    N_("administrators manage only their own agency and what lies below it"),
    N_("only the agency's administrator edits approval chains"),
    N_("subject (trích yếu) is required"),
    N_("the document's file (PDF or scan) is required"),
    N_("say why the document goes back to its sender"),
    N_("say why (the reason goes back to the drafter)"),
    N_("say why the document is recalled"),
    N_("write what was done"),
    N_("enter your PIN"),
    N_("the deadline is in the past"),
    N_("give the deadline either in working days or as a date"),
    N_("the same person or unit is named twice"),
    N_("re-assign to an active officer of your unit"),
    N_("name at least one recipient (nơi nhận)"),
    N_("secret documents are not sent electronically on a connected deployment"),
    N_("the chosen signer is not among this chain's signers"),
    N_("upload the draft's file before submitting it"),
    N_("only a draft is submitted: this one is already in its approval chain"),
    N_("the content changed after approval: it goes back through the chain"),
    N_("the document has not been signed by the competent person"),
    N_("only PDF documents are signed digitally"),
    N_("a recalled, withdrawn or returned document cannot be copied"),
    N_("only issued or received documents are copied"),
    N_("this document has not been recalled by its sender"),
    N_("a user needs at least one role"),
    N_("full_name is required"),
    N_("username must be 3-64 characters: lowercase letters, digits, '.', '_' or '-'"),
    N_("name is required (at most 200 characters)"),
    N_("abbreviation must be 1-20 letters/digits starting with a capital (e.g. UBND, VP)"),
    N_("an agency needs its 13-character OrganId"),
    N_("name the chain"),
    N_("a chain needs at least one step"),
    N_("a chain has exactly one sign step"),
    N_("a chain ends with the registry's issue step"),
    N_("the sign step comes right before the issue step"),
    N_("must be at least 10 characters"),
    N_("must contain letters and digits"),
    N_("must not contain the username"),
    N_("the session has expired or the form is stale: reload the page and try again"),
))

# Messages carrying values: pattern → message with the same named values.
PATTERNS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"^too many failed logins; the account is locked for (?P<minutes>\d+) minutes$"),
     _l("Too many failed logins: the account is locked for %(minutes)s minutes.")),
    (re.compile(r"^(?P<name>.+) is not cleared for this document$"),
     _l("%(name)s is not cleared for this document.")),
    (re.compile(r"^username '(?P<username>[^']+)' is taken$"), _l("The username %(username)s is taken.")),
    (re.compile(r"^password (?P<problem>.+)$"), _l("Password: %(problem)s.")),
    (re.compile(r"^(?P<field>\w+) '(?P<filename>.+)' is (?P<size>\d+) MB; the limit is .*$"),
     _l("The file %(filename)s is %(size)s MB, over the upload limit.")),
    (re.compile(r"^(?P<field>\w+) '(?P<filename>.+)' is (not a readable PDF|a damaged|empty|an encrypted|"
                r"not a PDF).*$"),
     _l("The file %(filename)s is not a readable PDF or scan (empty, damaged or password-protected).")),
    (re.compile(r"^unknown document type '(?P<type>[^']*)'.*$"), _l("Unknown document type “%(type)s”.")),
    (re.compile(r"^the personal deadline cannot be later than the unit's deadline \((?P<date>[\d/]+)\)$"),
     _l("The personal deadline cannot be later than the unit's deadline (%(date)s).")),
    (re.compile(r"^choose a PIN of at least (?P<n>\d+) characters$"),
     _l("Choose a PIN of at least %(n)s characters.")),
    (re.compile(r"^nobody can take the step '(?P<step>.+)' \(check users, roles and clearance\)$"),
     _l("Nobody can take the step “%(step)s”: check the users, their roles and clearance.")),
    (re.compile(r"^a unit abbreviated '(?P<abbr>[^']+)' already exists there$"),
     _l("A unit abbreviated %(abbr)s already exists there.")),
    (re.compile(r"^OrganId (?P<organ_id>\S+) is already used$"), _l("OrganId %(organ_id)s is already used.")),
    (re.compile(r"^organ_id (?P<problem>.+)$"), _l("OrganId: %(problem)s.")),
]

# Errors recognised by their code or their details' reason.
BY_REASON = {
    "possible_duplicate": _l("A document with the same number, notation and issuing body is already registered. "
                             "Check it, then confirm to register this one anyway."),
    "secret_content_offline": _l("This deployment is connected to outside networks: the content of a secret "
                                 "document stays offline. Register its metadata only, without a file."),
    "no_signing_key": _l("You have no signing certificate yet: get one on your profile page, protected by a "
                         "PIN of your choice."),
    "wrong_pin": _l("Wrong PIN."),
    "certificate_expired": _l("Your signing certificate has expired."),
    "certificate_revoked": _l("Your signing certificate has been revoked."),
    "key_unavailable": _l("The signing key cannot be used."),
    "organisation_key_unavailable": _l("The organisation's signing key cannot be used: tell the administrator."),
    "timestamp_unavailable": _l("The time-stamping service does not answer; try again shortly."),
}

BY_CODE = {
    "invalid_input": _l("A value in the form is not valid."),
    "unauthenticated": _l("Please log in."),
    "forbidden": _l("You are not allowed to do this."),
    "not_found": _l("Not found, or you may not see it."),
    "conflict": _l("This conflicts with what is already recorded."),
    "invalid_state": _l("This is not possible in the document's current state."),
    "payload_too_large": _l("The upload is too large."),
    "unsupported_media_type": _l("This kind of file is not accepted: upload a PDF or a scan (PNG, JPEG, TIFF)."),
    "locked": _l("This record is archived or under a legal hold: it can no longer be changed."),
    "content_destroyed": _l("The content of this document was destroyed after appraisal; its metadata and the "
                            "destruction record are kept."),
    "backend_unavailable": _l("A service the application needs is unavailable; try again shortly."),
}


# Form fields named by the services' and the request models' errors.
FIELDS = {
    "subject": _l("Subject"), "number_notation": _l("Number and notation"), "issuing_body": _l("Issuing body"),
    "issuing_organ_id": _l("OrganId of the issuing body"), "issued_date": _l("Document date"),
    "due_date": _l("Due date"), "type": _l("Document type"), "file": _l("File"), "attachments": _l("Attachments"),
    "signer_name": _l("Signer"), "signer_position": _l("Signer position"), "description": _l("Description"),
    "page_amount": _l("Pages"), "urgency": _l("Urgency"), "secrecy": _l("Secrecy"), "pin": _l("PIN"),
    "reason": _l("Reason"), "text": _l("What was done"), "percent": _l("Percent done"), "deadline": _l("Deadline"),
    "deadline_days": _l("Deadline in working days"), "lead": _l("Lead handler"), "assignments": _l("Assigned to"),
    "user_id": _l("Officer"), "username": _l("Username"), "password": _l("Password"), "full_name": _l("Full name"),
    "agency_id": _l("Agency"), "roles": _l("Roles"), "clearance": _l("Clearance"), "unit_ids": _l("Units"),
    "abbreviation": _l("Abbreviation"), "organ_id": _l("OrganId (agencies)"), "name": _l("Name"),
    "parent_id": _l("Under"), "steps": _l("Steps"), "template_id": _l("Approval chain"), "signer_id": _l("Signer"),
    "recipients": _l("Recipients"), "drafting_unit_id": _l("Drafting unit"),
}


@dataclass(frozen=True)
class UserMessage:
    text: str
    detail: str | None = None  # the untranslated original, when no translation was found


def user_message(exc: DomainError) -> UserMessage:
    reason = (exc.details or {}).get("reason") if isinstance(exc.details, dict) else None
    for key in (reason, exc.code):
        if key in BY_REASON:
            return UserMessage(str(BY_REASON[key]))
    text = exc.message.strip()
    if text in EXACT:
        return UserMessage(_sentence(gettext(text)))
    for pattern, template in PATTERNS:
        m = pattern.match(text)
        if m:
            values = {k: _nested(v) for k, v in m.groupdict().items()}
            return UserMessage(str(template) % values)
    if exc.code == "invalid_state" and "cannot go from" in text:
        return UserMessage(str(BY_CODE["invalid_state"]))
    generic = str(BY_CODE.get(exc.code, BY_CODE["invalid_input"]))
    field = _field(exc.details)
    if field is not None:
        generic += " " + str(_l("Check the field “%(field)s”.") % {"field": field})
    return UserMessage(generic, _sentence(text))


def _field(details: Any) -> str | None:
    """The label of the first form field an error names ("steps.2" → Steps, "recipients[0]" → Recipients)."""
    first = details[0] if isinstance(details, list) and details else details
    name = first.get("field") if isinstance(first, dict) else None
    if not isinstance(name, str):
        return None
    label = FIELDS.get(re.split(r"[.\[]", name)[0])
    return str(label) if label is not None else None


def _nested(value: str) -> str:
    return gettext(value) if value in EXACT else value


def _sentence(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
