"""Domain errors told to a person, in their language.

Services raise typed errors with an English message meant for API clients. Here a message the
pages can provoke is translated: by its stable key (``docsvc.errors.Msg``) first, then messages
raised without a key by their text, messages with values by pattern, signing failures and
well-known reasons by code; anything else gets the generic sentence of its error code with the
original message as the detail (never a path, a PIN or a stack trace).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from docsvc.errors import DomainError


def N_(message: str) -> str:
    """Marks a message for the catalogue without translating it (babel extracts N_)."""
    return message


# Messages the pages can provoke, by their stable key (``docsvc.errors.Msg``). The msgid is the English
# text, so today's translations hold; the lookup goes by key, so rewording a service's message cannot
# silently drop its translation (``tests/unit/test_error_messages.py`` checks every key raised).
KEYED: dict[str, str] = {
    "identity.wrong_username_password": N_("wrong username or password"),
    "policy.only_agency_registry_registers_incoming_documents":
        N_("only the agency's registry registers incoming documents"),
    "policy.only_agency_registry_returns_documents_their":
        N_("only the agency's registry returns documents to their sender"),
    "policy.only_leader_agency_instructs_assigns_incoming":
        N_("only a leader of the agency instructs and assigns incoming documents"),
    "incoming.only_unit_head_re_assigns_work": N_("only a unit head re-assigns work"),
    "incoming.you_can_only_re_assign_work": N_("you can only re-assign work given to you or to your unit"),
    "policy.only_handler_document_reports_progress": N_("only a handler of this document reports progress"),
    "policy.only_lead_handler_leader_completes_handling":
        N_("only the lead handler or a leader completes the handling"),
    "documents.only_registry_clerk_receives_incoming_documents":
        N_("only the registry (clerk) receives incoming documents"),
    "documents.your_role_cannot_draft_documents": N_("your role cannot draft documents"),
    "policy.role_does_not_sign_documents": N_("your role does not sign documents"),
    "policy.only_drafter_submits_draft": N_("only the drafter submits the draft"),
    "policy.only_drafter_uploads_new_versions_draft": N_("only the drafter uploads new versions of a draft"),
    "policy.only_registry_replaces_file_received_document":
        N_("only the registry replaces the file of a received document"),
    "policy.only_agency_registry_issues_documents": N_("only the agency's registry issues documents"),
    "policy.only_issuing_agency_leaders_registry_recall":
        N_("only the issuing agency's leaders or registry recall a document"),
    "policy.registry_receiving_agency_confirms_recall": N_("the registry of the receiving agency confirms a recall"),
    "policy.copies_made_registry": N_("copies are made by the registry"),
    "approval.document_not_waiting_your_decision": N_("this document is not waiting for your decision"),
    "outgoing.document_not_waiting_your_signature": N_("this document is not waiting for your signature"),
    "policy.document_not_waiting_you_issue": N_("this document is not waiting for you to issue it"),
    "register_book.registers_kept_registry_read_leaders_archivists":
        N_("registers are kept by the registry and read by leaders and archivists"),
    "register_book.secret_register_needs_clearance": N_("the secret register needs a clearance"),
    "identity.administrators_manage_only_their_own_agency":
        N_("administrators manage only their own agency and what lies below it"),
    "approval.only_agency_administrator_edits_approval_chains":
        N_("only the agency's administrator edits approval chains"),
    "documents.subject_required": N_("subject (trích yếu) is required"),
    "documents.document_file_pdf_scan_required": N_("the document's file (PDF or scan) is required"),
    "pages.document_file_pdf_scan_required": N_("the document's file (PDF or scan) is required"),
    "incoming.say_why_document_goes_back_sender": N_("say why the document goes back to its sender"),
    "approval.say_why_reason_goes_back_drafter": N_("say why (the reason goes back to the drafter)"),
    "outgoing.say_why_document_recalled": N_("say why the document is recalled"),
    "incoming.write_what_was_done": N_("write what was done"),
    "outgoing.enter_your_pin": N_("enter your PIN"),
    "incoming.deadline_past": N_("the deadline is in the past"),
    "incoming.give_deadline_either_working_days_date": N_("give the deadline either in working days or as a date"),
    "incoming.same_person_unit_named_twice": N_("the same person or unit is named twice"),
    "incoming.re_assign_active_officer_your_unit": N_("re-assign to an active officer of your unit"),
    "pages.re_assign_active_officer_your_unit": N_("re-assign to an active officer of your unit"),
    "outgoing.name_at_least_one_recipient": N_("name at least one recipient (nơi nhận)"),
    "outgoing.secret_documents_not_sent_electronically_connected":
        N_("secret documents are not sent electronically on a connected deployment"),
    "approval.chosen_signer_not_among_chain_signers": N_("the chosen signer is not among this chain's signers"),
    "policy.upload_draft_file_before_submitting": N_("upload the draft's file before submitting it"),
    "policy.only_draft_submitted_one_already_approval":
        N_("only a draft is submitted: this one is already in its approval chain"),
    "outgoing.content_changed_after_approval_goes_back":
        N_("the content changed after approval: it goes back through the chain"),
    "outgoing.document_has_not_been_signed_competent": N_("the document has not been signed by the competent person"),
    "outgoing.only_pdf_documents_signed_digitally": N_("only PDF documents are signed digitally"),
    "policy.recalled_withdrawn_returned_document_cannot_copied":
        N_("a recalled, withdrawn or returned document cannot be copied"),
    "policy.only_issued_received_documents_copied": N_("only issued or received documents are copied"),
    "policy.document_has_not_been_recalled_sender": N_("this document has not been recalled by its sender"),
    "policy.only_issuing_registry_updates_replaces_outside":
        N_("only the issuing agency's registry sends an update or a replacement to outside recipients"),
    "policy.only_issued_documents_updated_replaced_outside":
        N_("only an issued document is updated or replaced at outside recipients"),
    "policy.secret_documents_not_sent_outside":
        N_("secret documents are not sent to outside agencies electronically"),
    "policy.document_not_sent_outside_yet":
        N_("this document has not been sent to any outside recipient: there is nothing to update or replace there"),
    "policy.document_cannot_replace_itself": N_("a document cannot replace itself"),
    "policy.replacement_issued_same_agency": N_("the replacement is a document issued by the same agency"),
    "identity.user_needs_least_one_role": N_("a user needs at least one role"),
    "identity.full_name_required": N_("full_name is required"),
    "identity.username_must_3_64_characters_lowercase":
        N_("username must be 3-64 characters: lowercase letters, digits, '.', '_' or '-'"),
    "identity.name_required_most_200_characters": N_("name is required (at most 200 characters)"),
    "identity.abbreviation_must_1_20_letters_digits":
        N_("abbreviation must be 1-20 letters/digits starting with a capital (e.g. UBND, VP)"),
    "identity.agency_needs_13_character_organid": N_("an agency needs its 13-character OrganId"),
    "approval.name_chain": N_("name the chain"),
    "approval.chain_needs_least_one_step": N_("a chain needs at least one step"),
    "approval.chain_has_exactly_one_sign_step": N_("a chain has exactly one sign step"),
    "approval.chain_ends_with_registry_issue_step": N_("a chain ends with the registry's issue step"),
    "approval.sign_step_comes_right_before_issue": N_("the sign step comes right before the issue step"),
    "identity.must_least_10_characters": N_("must be at least 10 characters"),
    "identity.must_contain_letters_digits": N_("must contain letters and digits"),
    "identity.must_not_contain_username": N_("must not contain the username"),
    "pages.session_has_expired_form_stale_reload":
        N_("the session has expired or the form is stale: reload the page and try again"),
    "archives.only_administrators_edit_retention_catalogue": N_("only administrators edit the retention catalogue"),
    "archives.agency_archive_archivist_receives_transfers": N_("the agency archive (archivist) receives transfers"),
    "archives.archive_leaders_follow_disposal": N_("the archive and the leaders follow disposal"),
    "archives.archive_leaders_follow_legal_holds": N_("the archive and the leaders follow legal holds"),
    "archives.archive_carries_out_approved_destruction": N_("the archive carries out an approved destruction"),
    "archives.archive_lists_expired_records": N_("the archive lists expired records"),
    "archives.archive_agency_leaders_place_legal_holds": N_("the archive or the agency's leaders place legal holds"),
    "archives.archive_agency_leaders_release_legal_holds":
        N_("the archive or the agency's leaders release legal holds"),
    "archives.archive_head_extend_retention": N_("the archive or the head extend a retention"),
    "archives.archive_registry_keeps_dossier_plan": N_("the archive or the registry keeps the dossier plan"),
    "archives.archive_records_appraisal_council_review": N_("the archive records the appraisal council's review"),
    "archives.archive_registry_leaders_follow_transfers":
        N_("the archive, the registry and the leaders follow transfers"),
    "archives.head_archive_review_protection_periods": N_("the head and the archive review protection periods"),
    "archives.head_agency_decides_destruction": N_("the head of the agency decides on destruction"),
    "archives.head_agency_declassifies_documents": N_("the head of the agency declassifies documents"),
    "archives.head_agency_extends_protection_periods": N_("the head of the agency extends protection periods"),
    "archives.your_role_cannot_keep_dossiers": N_("your role cannot keep dossiers"),
    "archives.only_dossier_owner_archive_registry_manage":
        N_("only the dossier's owner, the archive or the registry manage this dossier"),
    "archives.archive_registry_change_dossier_owner": N_("the archive or the registry change a dossier's owner"),
    "archives.archive_registry_dossier_owner_export_dossier":
        N_("the archive, the registry or the dossier's owner export a dossier"),
    "archives.you_act_your_own_agency_only": N_("you act for your own agency only"),
    "archives.you_add_dossiers_you_own_archive": N_("you add dossiers you own; the archive assigns other owners"),
    "archives.dossier_secret_documents_cannot_public": N_("a dossier of secret documents cannot be public"),
    "archives.retention_period_1_200_years_permanent": N_("a retention period is 1..200 years, or permanent"),
    "archives.appraisal_council_has_least_3_members": N_("an appraisal council has at least 3 members"),
    "archives.file_documents_your_own_agency_received":
        N_("file documents of your own agency (a received copy is your agency's)"),
    "archives.hold_exactly_one_document_id_dossier": N_("hold exactly one of document_id or dossier_id"),
    "archives.one_transfer_covers_dossiers_one_agency": N_("one transfer covers dossiers of one agency"),
    "archives.rights_public_restricted": N_("rights is public or restricted"),
    "archives.settlement_date_cannot_future": N_("the settlement date cannot be in the future"),
    "archives.work_cannot_end_future": N_("the work cannot end in the future"),
    "archives.within_days_0_3660": N_("within_days is 0..3660"),
    "archives.year_must_2000_2100": N_("year must be 2000..2100"),
    "archives.closed_dossier_metadata_fixed_reopen_first": N_("a closed dossier's metadata is fixed (reopen it first)"),
    "archives.close_dossier_before_exporting": N_("close the dossier before exporting it"),
    "archives.documents_filed_into_open_dossiers_only": N_("documents are filed into open dossiers only"),
    "archives.documents_removed_from_open_dossiers_only": N_("documents are removed from open dossiers only"),
    "archives.only_closed_dossier_that_was_not": N_("only a closed dossier that was not transferred is reopened"),
    "archives.only_construction_dossiers_have_final_settlement":
        N_("only construction dossiers have a final settlement"),
    "archives.agency_has_no_organid_dossier_filecodes":
        N_("the agency has no OrganId: dossier FileCodes need it (set it first)"),
    "archives.agency_has_no_archivist_leader_record":
        N_("the agency has no archivist or leader to record as the holder"),
    "archives.agency_has_no_archivist_receive_transfer": N_("the agency has no archivist to receive the transfer"),
    "archives.appraisal_council_reviews_list_before_head":
        N_("the appraisal council reviews the list before the head decides"),
    "archives.document_not_classified": N_("the document is not classified"),
    "archives.dossier_was_destroyed": N_("the dossier was destroyed"),
    "archives.dossier_was_transferred_already": N_("the dossier was transferred already"),
    "archives.dossier_content_was_destroyed_nothing_left":
        N_("the dossier's content was destroyed: nothing left to hold"),
    "archives.use_reopen_closed_dossier": N_("use reopen for a closed dossier"),
    "pages.choose_dossiers_transfer": N_("choose the dossiers to transfer"),
    "pages.choose_dossier": N_("choose a dossier"),
    "pages.give_document_id_choose_from_search": N_("give the document's ID or choose it from the search"),
    "pages.tick_confirmation_destruction_cannot_undone": N_("tick the confirmation: destruction cannot be undone"),
    "pages.choose_approve_refuse": N_("choose approve or refuse"),
    "intake.secret_file_removed": N_(
        "the document is marked secret and this deployment is connected to outside networks, where the content "
        "of a secret document stays offline: the received file was deleted and nothing of its content is kept. "
        "Register its metadata only"),
    "intake.removed_file_needs_upload": N_(
        "this file was read as secret and deleted: register it as secret (metadata only), or, if it is not "
        "secret, receive the file again"),
    "intake.staged_file_gone": N_("the received file is no longer stored: receive it again"),
}

# Messages still raised without a key (built from parts): matched by their text.
UNKEYED = (
    N_("only an administrator may manage organisations and users"),
    N_("a dossier number/notation looks like 01.TCCB (letters, digits, '.' or '-', at most 20 characters)"),
)
#: Every translated message by its text: errors without a key, and values nested in patterns.
EXACT = frozenset((*KEYED.values(), *UNKEYED))

# Messages carrying values: pattern → message with the same named values.
PATTERNS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"^too many failed logins; the account is locked for (?P<minutes>\d+) minutes$"),
     _l("Too many failed logins: the account is locked for %(minutes)s minutes.")),
    (re.compile(r"^too many login attempts for this \w+; try again in (?P<seconds>\d+) seconds$"),
     _l("Too many login attempts: try again in %(seconds)s seconds.")),
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
    # dossiers and archives
    (re.compile(r"^(?P<field>\w+) is required$"), _l("Fill in “%(field)s”.")),
    (re.compile(r"^(?P<field>\w+) is longer than (?P<n>\d+) characters$"),
     _l("“%(field)s” is longer than %(n)s characters.")),
    (re.compile(r"^no retention entry '(?P<code>[^']*)'( in the catalogue)?$"),
     _l("There is no entry “%(code)s” in the retention catalogue.")),
    (re.compile(r"^retention entry '(?P<code>[^']*)' exists: .*$"),
     _l("The retention entry %(code)s exists already: change it instead (that adds a new version).")),
    (re.compile(r"^a retention code is 1\.\.(?P<n>\d+) characters without spaces$"),
     _l("A retention code has 1 to %(n)s characters, without spaces.")),
    (re.compile(r"^retention can only be extended: (?P<new>.+) is not longer than (?P<old>.+)$"),
     _l("A retention can only be extended: %(new)s is not longer than %(old)s.")),
    (re.compile(r"^the FileCode (?P<code>\S+) is taken$"), _l("The FileCode %(code)s is taken.")),
    (re.compile(r"^the plan has a dossier (?P<notation>\S+) already$"),
     _l("The plan already has a dossier %(notation)s.")),
    (re.compile(r"^the (?P<year>\d{4}) dossier plan exists already$"),
     _l("The dossier plan of %(year)s exists already.")),
    (re.compile(r"^document (?P<id>\d+) is in this dossier already$"),
     _l("Document %(id)s is in this dossier already.")),
    (re.compile(r"^document (?P<id>\d+) is not in this dossier$"), _l("Document %(id)s is not in this dossier.")),
    (re.compile(r"^dossier (?P<id>\d+) is not on this list$"), _l("Dossier %(id)s is not on this list.")),
    (re.compile(r"^extend by 1\.\.(?P<n>\d+) years for this level$"),
     _l("Extend by 1 to %(n)s years for this secrecy level.")),
    (re.compile(r"^transfer 1\.\.(?P<n>\d+) dossiers$"), _l("Choose between 1 and %(n)s dossiers to transfer.")),
    (re.compile(r"^unit (?P<id>\d+) is not a unit of this agency$"), _l("This unit is not a unit of your agency.")),
    (re.compile(r"^user (?P<id>\d+) is not a member of this agency$"),
     _l("This person is not an active member of your agency.")),
    (re.compile(r"^your clearance does not cover (?P<level>.+) dossiers$"),
     _l("Your clearance does not cover %(level)s dossiers.")),
    (re.compile(r"^a dossier cannot go from '(?P<old>\w+)' to '(?P<new>\w+)'$"),
     _l("This is not possible in the dossier's current state.")),
    (re.compile(r"^a disposal list cannot go from 'proposed' to '(?P<new>approved|rejected)'$"),
     _l("The appraisal council reviews the list before the head decides.")),
    (re.compile(r"^a disposal list cannot go from '(?P<old>proposed|reviewed)' to 'destroyed'$"),
     _l("Only a destruction the head approved is carried out.")),
    (re.compile(r"^a disposal list cannot go from '(?P<old>\w+)' to '(?P<new>\w+)'$"),
     _l("This is not possible in the disposal list's current state.")),
    (re.compile(r"^dossier (?P<code>\S+) has no retention or end of work$"),
     _l("Dossier %(code)s has no retention period or end of work.")),
    (re.compile(r"^dossier (?P<code>\S+) is kept (?P<retention>.+): dossiers kept less than 5 years .*$"),
     _l("Dossier %(code)s is kept %(retention)s: dossiers kept less than 5 years stay with the unit.")),
    (re.compile(r"^legal hold (?P<id>\d+) is already active on it$"),
     _l("A legal hold (no. %(id)s) is already active on it.")),
    (re.compile(r"^legal hold (?P<id>\d+) was released already$"),
     _l("Legal hold no. %(id)s was released already.")),
    (re.compile(r"^the dossier cannot be closed: .*$"),
     _l("The dossier cannot be closed yet: see the problems listed on the page.")),
    (re.compile(r"^the protection ended on (?P<date>[\d/]+): .*$"),
     _l("The protection ended on %(date)s: the document is declassified (classify it anew with a new decision).")),
    (re.compile(r"^stored content of document (?P<id>\d+) does not match .*$"),
     _l("The stored content of document %(id)s does not match its recorded checksum: the export was refused.")),
]

# Errors recognised by their code or their details' reason.
BY_REASON = {
    "possible_duplicate": _l("A document with the same number, notation and issuing body is already registered. "
                             "Check it, then confirm to register this one anyway."),
    "secret_content_offline": _l("This deployment is connected to outside networks: the content of a secret "
                                 "document stays offline. Register its metadata only, without a file."),
    "no_signing_key": _l("You have no signing certificate yet: get one on your profile page, protected by a "
                         "PIN of your choice."),
    "too_many_pages": _l("The PDF has more pages than this system accepts in one file: split it, or ask the "
                         "administrator about the page limit."),
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
    "notation": _l("Number and notation of the dossier"), "title": _l("Dossier title"),
    "retention_code": _l("Retention period"), "owner_id": _l("Owner"), "unit_id": _l("Unit"),
    "construction": _l("Construction dossier"), "rights": _l("Rights"), "language": _l("Language"),
    "work_ended_on": _l("Work ended on"), "settlement_date": _l("Final settlement date"),
    "document_id": _l("Document"), "dossier_id": _l("Dossier"), "dossier_ids": _l("Dossiers"),
    "delivered_by_id": _l("Handed over by"), "note": _l("Note"), "opinion": _l("Council's opinion"),
    "members": _l("Council members"), "keep": _l("Reason to keep"), "decision_ref": _l("Decision number"),
    "years": _l("Years"), "code": _l("Code"), "within_days": _l("Within days"), "year": _l("Year"),
    "approve": _l("Decision"),
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
    if exc.key is not None and exc.key in KEYED:
        return UserMessage(_sentence(gettext(KEYED[exc.key])))
    text = exc.message.strip()
    if text in EXACT:
        return UserMessage(_sentence(gettext(text)))
    for pattern, template in PATTERNS:
        m = pattern.match(text)
        if m:
            values = {k: _field_label(v) if k == "field" else _nested(v) for k, v in m.groupdict().items()}
            return UserMessage(str(template) % values)
    if exc.code == "invalid_state" and "cannot go from" in text:
        return UserMessage(str(BY_CODE["invalid_state"]))
    generic = str(BY_CODE.get(exc.code, BY_CODE["invalid_input"]))
    field = _field(exc.details)
    if field is not None:
        generic += " " + str(_l("Check the field “%(field)s”.") % {"field": field})
    return UserMessage(generic, _sentence(text))


def item_message(error: Mapping[str, Any] | None) -> str:
    """A batch row's error or problem (``{"code", "message", "details", "key"}`` as kept on the row),
    told like the error of a single action; a problem written for people already (no code known
    to the errors) is shown as it is."""
    if not error:
        return ""
    if not error.get("key") and not error.get("details") and error.get("code") not in BY_CODE:
        return str(error.get("message") or "")
    exc = DomainError(str(error.get("message") or ""), error.get("details"))
    exc.code, exc.key = str(error.get("code") or "invalid_input"), error.get("key")
    message = user_message(exc)
    return message.text + (f" ({message.detail})" if message.detail else "")


def _field(details: Any) -> str | None:
    """The label of the first form field an error names ("steps.2" → Steps, "recipients[0]" → Recipients)."""
    first = details[0] if isinstance(details, list) and details else details
    name = first.get("field") if isinstance(first, dict) else None
    if not isinstance(name, str):
        return None
    label = FIELDS.get(re.split(r"[.\[]", name)[0])
    return str(label) if label is not None else None


def _field_label(name: str) -> str:
    label = FIELDS.get(name)
    return str(label) if label is not None else name


def _nested(value: str) -> str:
    return gettext(value) if value in EXACT else value


def _sentence(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
