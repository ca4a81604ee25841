"""Log in and out (audited by the IdentityService, like the API), switch language, and the
profile page (who am I, my signing certificate)."""

from __future__ import annotations

import contextlib

from flask import flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response  # what redirect() returns; flask.Response derives from it

from docsvc.errors import DomainError, NotFound
from docsvc.web.context import container
from docsvc.web.errors import with_retry_after
from docsvc.web.pages import forms
from docsvc.web.pages.base import (
    TOKEN_KEY,
    act,
    optional_actor,
    page_actor,
    page_blueprint,
    safe_next,
    start_session,
    web_origin,
)
from docsvc.web.pages.i18n import LANG_COOKIE, LANGUAGES
from docsvc.web.pages.messages import user_message
from docsvc.web.pages.nav import NavItem

bp = page_blueprint("auth", __name__, public=True)
NAV = [NavItem("auth.profile", _l("My profile"), order=90)]


@bp.get("/login")
def login() -> str | Response:
    if optional_actor() is not None:
        return redirect(safe_next(request.args.get("next")))
    return render_template("login.html", next=safe_next(request.args.get("next"), ""))


@bp.post("/login")
def login_submit() -> str | Response | tuple[str, int]:
    username, next_url = forms.text("username"), safe_next(request.form.get("next"))
    try:
        issued = container().identity.issue_token(username, request.form.get("password", ""), web_origin())
    except DomainError as exc:  # wrong password (401), locked account (423) or too many attempts (429)
        flash(user_message(exc).text, "error")
        return with_retry_after((render_template("login.html", next=next_url, username=username), exc.status),
                                exc.details)
    start_session(issued.token)
    return redirect(next_url, 303)


@bp.post("/logout")
def logout() -> Response:
    token = session.get(TOKEN_KEY)
    actor = optional_actor()
    if token and actor is not None:
        with contextlib.suppress(NotFound):  # already revoked (e.g. rights changed): the session ends all the same
            container().identity.revoke_token(token, actor, web_origin())
    session.clear()
    flash(_("You have logged out."), "success")
    return redirect(url_for("auth.login"), 303)


@bp.get("/lang/<code>")
def language(code: str) -> Response:
    """Switch the interface language (kept in a cookie for a year)."""
    response = make_response(redirect(safe_next(request.args.get("next"), "/work")))
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
                            secure=request.is_secure)
    return response


@bp.get("/me")
def profile() -> str:
    actor = page_actor()
    c = container()
    return render_template("profile.html", user=c.identity.get_user(actor, actor.user_id),
                           key=_signing_key(actor), certificates=c.split_signing.certificates(actor),
                           remote_signing=bool(c.settings.csc_url), local_port=c.settings.local_signer_port)


@bp.post("/me/certificates")
def register_certificate() -> Response | tuple[str, int]:
    """A certificate whose key is on the user's own token (pasted PEM from `docsvc-signer certificate`)."""
    return act(lambda actor: container().split_signing.register_certificate(
        actor, request.form.get("certificate", ""), origin=web_origin()),
        done=_("Certificate registered: you can sign with your token."), then=url_for("auth.profile"),
        on_error=lambda actor, status: (profile(), status))


@bp.post("/me/certificates/<int:cert_id>/remove")
def remove_certificate(cert_id: int) -> Response | tuple[str, int]:
    return act(lambda actor: container().split_signing.remove_certificate(actor, cert_id, web_origin()),
               done=_("Certificate removed."), then=url_for("auth.profile"),
               on_error=lambda actor, status: (profile(), status))


@bp.post("/me/remote-credential")
def link_remote() -> Response | tuple[str, int]:
    return act(lambda actor: container().remote_signing.link(actor, request.form.get("credential_id") or None,
                                                             web_origin()),
               done=_("Remote-signing credential linked."), then=url_for("auth.profile"),
               on_error=lambda actor, status: (profile(), status))


@bp.post("/me/signing-key")
def enrol() -> Response | tuple[str, int]:
    if request.form.get("pin") != request.form.get("pin_again"):
        flash(_("The two PINs differ."), "error")
        return profile(), 400
    return act(lambda actor: container().enrolment.enrol(actor, request.form.get("pin", ""), origin=web_origin()),
               done=_("Your signing certificate is ready. Keep your PIN secret."), then=url_for("auth.profile"),
               on_error=lambda actor, status: (profile(), status))


def _signing_key(actor: object) -> dict | None:
    try:
        return container().enrolment.my_key(actor)  # type: ignore[arg-type]
    except NotFound:
        return None

