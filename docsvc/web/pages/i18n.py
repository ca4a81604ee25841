"""Languages of the pages: Vietnamese by default, English on request (a cookie), with Vietnam's
date and time conventions in both (dd/mm/yyyy, hh:mm +07:00).

Interface strings are English msgids translated by the Vietnamese catalogue
(``docsvc/web/translations/vi``). Labels of domain values (statuses, urgency, secrecy, roles,
inbox reasons) come in Vietnamese from the domain itself; their English forms live here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask, g, request
from flask_babel import Babel, get_locale, get_translations
from flask_babel import lazy_gettext as _l

from docsvc.domain.archives import DossierStatus, Retention, Rights
from docsvc.domain.documents import Status, Urgency
from docsvc.domain.identity import Role, Secrecy
from docsvc.services.inbox import ACTIONS as INBOX_ACTIONS_VI
from docsvc.timeutil import to_vn

LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}
DEFAULT_LANGUAGE = "vi"
LANG_COOKIE = "docsvc_lang"


def select_locale() -> str:
    lang = request.cookies.get(LANG_COOKIE, DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def install_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    Babel(app, locale_selector=select_locale)
    # The templates' _() and friends as Flask-Babel installs them, with the request's catalogue looked
    # up once per request instead of once per string (a page translates some fifty).
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # added by jinja2.ext.i18n
        gettext=lambda s: _catalogue().ugettext(s),
        ngettext=lambda s, p, n: _catalogue().ungettext(s, p, n),
        pgettext=lambda c, s: _catalogue().upgettext(c, s),
        npgettext=lambda c, s, p, n: _catalogue().unpgettext(c, s, p, n),
        newstyle=True)
    app.jinja_env.filters.update(vn_date=vn_date, vn_datetime=vn_datetime)
    app.jinja_env.globals.update(label=label, event_label=event_label, LANGUAGES=LANGUAGES, DIRECTIONS=DIRECTIONS,
                                 current_language=current_language)


def _catalogue() -> Any:
    """The translations of this request's language (Flask-Babel's), kept on ``g`` for the request."""
    found = g.get("docsvc_catalogue")
    if found is None:
        found = g.docsvc_catalogue = get_translations()
    return found


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


# ---------------------------------------------------------------- dates and times (Vietnam time)
def _as_datetime(value: Any) -> datetime | date | None:
    if value in (None, ""):
        return None
    if isinstance(value, (datetime, date)):
        return value
    text = str(value)
    try:
        return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text[:10])
    except ValueError:
        return None


def vn_date(value: Any) -> str:
    """dd/mm/yyyy (a datetime is first put in Vietnam time)."""
    d = _as_datetime(value)
    if d is None:
        return ""
    if isinstance(d, datetime):
        d = to_vn(d) if d.tzinfo else d
    return d.strftime("%d/%m/%Y")


def vn_datetime(value: Any) -> str:
    """dd/mm/yyyy hh:mm +07:00."""
    d = _as_datetime(value)
    if d is None:
        return ""
    if not isinstance(d, datetime):
        return vn_date(d)
    return (to_vn(d) if d.tzinfo else d).strftime("%d/%m/%Y %H:%M") + " +07:00"


# ---------------------------------------------------------------- labels of domain values
_EN: dict[str, dict[str, str]] = {
    "status": {"received": "Received", "registered": "Registered", "assigned": "Assigned",
               "in_progress": "In progress", "completed": "Completed", "returned": "Returned to sender",
               "withdrawn": "Withdrawn", "draft": "Draft", "in_review": "In review", "approved": "Approved",
               "signed": "Signed", "issued": "Issued", "recalled": "Recalled"},
    "urgency": {"normal": "Normal", "khan": "Urgent", "thuong_khan": "Very urgent", "hoa_toc": "Immediate"},
    "secrecy": {"none": "Not classified", "mat": "Confidential", "toi_mat": "Secret", "tuyet_mat": "Top secret"},
    "role": {"clerk": "Clerk", "officer": "Officer", "unit_head": "Unit head", "leader": "Leader",
             "archivist": "Archivist", "admin": "Administrator"},
    "dossier_status": {"planned": "Planned", "open": "Open", "closed": "Closed", "archived": "Archived",
                       "destroyed": "Destroyed", "unfiled": "Not filed"},
    "rights": {"public": "Public", "restricted": "Restricted"},
    "reason": {"register": "Register the incoming document", "instruct": "Give instructions and assign",
               "handle": "Handle (lead)", "co_handle": "Co-handle", "for_information": "For information",
               "review": "Review", "approve": "Approve", "sign": "Sign digitally",
               "issue": "Number, seal and issue", "revise": "Revise as asked"},
}


def _vi(kind: str, key: str) -> str | None:
    try:
        if kind == "status":
            return Status(key).label_vi
        if kind == "urgency":
            return Urgency.parse(key).label_vi
        if kind == "secrecy":
            return Secrecy.parse(key).label_vi
        if kind == "role":
            return Role(key).label_vi
        if kind == "reason":
            return INBOX_ACTIONS_VI[key]
        if kind == "dossier_status":
            return UNFILED_VI if key == "unfiled" else DossierStatus(key).label_vi
        if kind == "rights":
            return Rights(key).label_vi
        if kind == "retention":
            return Retention(_retention_years(key)).label_vi
    except (ValueError, KeyError):
        return None
    return None


UNFILED_VI = "Chưa lập hồ sơ"  # archive_status of a document in no dossier


def _retention_years(key: str) -> int | None:
    """``permanent`` → None, ``10y`` → 10 (the search index's retention keys)."""
    if key == "permanent":
        return None
    if key.endswith("y") and key[:-1].isdigit():
        return int(key[:-1])
    raise ValueError(key)


def _en(kind: str, key: str) -> str | None:
    if kind == "retention":
        try:
            years = _retention_years(key)
        except ValueError:
            return None
        return "Permanent" if years is None else f"{years} years"
    if kind in GETTEXT_LABELS:
        found = GETTEXT_LABELS[kind].get(key)
        return str(found) if found is not None else None
    return _EN.get(kind, {}).get(key)


def label(kind: str, value: Any) -> str:
    """The label of a domain value in the current language; urgency and secrecy accept their
    level numbers (search facets) as well as their keys."""
    key = str(value)
    if kind in ("urgency", "secrecy") and key.isdigit():
        key = (Urgency if kind == "urgency" else Secrecy)(int(key)).key
    if kind in GETTEXT_LABELS:  # labels only the interface has: translated by the catalogue
        return _en(kind, key) or key
    if current_language() == "vi":
        return _vi(kind, key) or key
    return _en(kind, key) or key


# Labels of archive values that the domain does not name in Vietnamese (the catalogue does).
GETTEXT_LABELS: dict[str, dict[str, Any]] = {
    "disposal_status": {"proposed": _l("Proposed"), "reviewed": _l("Reviewed by the council"),
                        "approved": _l("Destruction approved"), "rejected": _l("Destruction refused"),
                        "destroyed": _l("Destroyed")},
    "disposal_decision": {"destroy": _l("To destroy"), "keep": _l("Keep"), "withheld": _l("Withheld"),
                          "destroyed": _l("Destroyed")},
    "secrecy_action": {"extend": _l("Protection extended"), "declassify": _l("Declassified"),
                       "auto_declassify": _l("Declassified at the end of the protection period")},
    "batch": {"intake": _l("Files received"), "register": _l("Registering many"), "assign": _l("Assigning many"),
              "sign": _l("Signing many"), "issue": _l("Issuing many")},
}


DIRECTIONS = {"incoming": _l("Incoming"), "outgoing": _l("Outgoing"), "internal": _l("Internal")}

# Audit actions shown in a document's processing history.
EVENTS = {
    "document.create": _l("Received or drafted"), "document.read": _l("Read"), "document.download": _l("File opened"),
    "document.link": _l("Download link made"), "document.verify": _l("Signatures checked"),
    "document.register": _l("Registered"), "document.return": _l("Returned to the sender"),
    "document.assign": _l("Instructed and assigned"), "document.reassign": _l("Passed on to an officer"),
    "document.progress": _l("Progress reported"), "document.link_reply": _l("Reply linked"),
    "document.complete": _l("Handling completed"), "document.new_version": _l("New version uploaded"),
    "document.grant": _l("Access granted"), "document.submit": _l("Submitted for approval"),
    "document.approve": _l("Approved"), "document.reject": _l("Rejected"),
    "document.return_for_revision": _l("Returned for revision"), "chain.restart": _l("Approval restarted"),
    "document.sign": _l("Signed digitally"), "document.issue": _l("Numbered, sealed and issued"),
    "document.deliver": _l("Delivered"), "document.recall": _l("Recalled"),
    "document.recall_confirm": _l("Recall confirmed"), "document.copy": _l("Electronic copy made"),
    "document.ltv_refresh": _l("Signature evidence renewed"),
    "secrecy.extend": _l("Protection period extended"), "secrecy.declassify": _l("Declassified"),
    "secrecy.auto_declassify": _l("Declassified at the end of the protection period"),
}


def event_label(action: str) -> str:
    return str(EVENTS.get(action, action))
