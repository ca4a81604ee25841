"""What every page blueprint shares: the signed-in user (a cookie session holding a token from
the IdentityService), CSRF protection of every POST, role guards, security headers, and errors
shown as pages in the user's language with the right HTTP status.

Session: Flask's signed cookie (HttpOnly, SameSite=Lax, Secure when the public URL is https)
holds the bearer token issued at login, so expiry, revocation (logout, a change of rights) and
lockout are the API's own. Each POST carries the session's CSRF token (form field ``csrf_token``
or header ``X-CSRF-Token`` for htmx).
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response  # what redirect() returns; flask.Response derives from it

from docsvc import secrets_store
from docsvc.domain.identity import Actor, RequestOrigin, Role
from docsvc.errors import DomainError, InvalidInput, Msg, Unauthenticated
from docsvc.settings import Settings
from docsvc.web.context import container, origin
from docsvc.web.pages.messages import user_message

TOKEN_KEY, CSRF_KEY = "token", "csrf"


class CsrfRefused(InvalidInput):
    code = "csrf_refused"


# ---------------------------------------------------------------- session and identity
def configure_sessions(app: Flask, settings: Settings) -> None:
    app.secret_key = secrets_store.secret_key(settings)
    app.config.update(SESSION_COOKIE_NAME="docsvc_session", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.token_ttl_hours))


def web_origin() -> RequestOrigin:
    return origin("web")


def start_session(token: str) -> None:
    """A new session for a fresh login (a new CSRF token; nothing kept from before)."""
    session.clear()
    session.permanent = True
    session[TOKEN_KEY] = token
    session[CSRF_KEY] = secrets.token_urlsafe(32)


def page_actor() -> Actor:
    """The signed-in user; Unauthenticated when the session has no valid token."""
    actor = g.get("page_actor")
    if actor is not None:
        return actor
    token = session.get(TOKEN_KEY)
    if not token:
        raise Unauthenticated("not signed in")
    try:
        actor = container().identity.authenticate(token)
    except Unauthenticated:
        session.pop(TOKEN_KEY, None)
        raise
    g.page_actor = actor
    return actor


def optional_actor() -> Actor | None:
    try:
        return page_actor()
    except Unauthenticated:
        return None


def csrf_token() -> str:
    if CSRF_KEY not in session:
        session[CSRF_KEY] = secrets.token_urlsafe(32)
    return session[CSRF_KEY]


def check_csrf() -> None:
    expected = session.get(CSRF_KEY)
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    if not expected or not hmac.compare_digest(str(expected), sent):
        raise CsrfRefused(Msg("pages.session_has_expired_form_stale_reload",
                              "the session has expired or the form is stale: reload the page and try again"))


def safe_next(target: str | None, default: str = "/work") -> str:
    """Only local paths are followed after login or a language switch (no open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


# ---------------------------------------------------------------- blueprints
def page_blueprint(name: str, import_name: str, *, url_prefix: str | None = None, public: bool = False,
                   roles: Iterable[Role] = ()) -> Blueprint:
    """A blueprint of pages: sign-in required (unless ``public``), the given roles required,
    CSRF checked on every POST, errors rendered as pages."""
    bp = Blueprint(name, import_name, url_prefix=url_prefix)
    required = frozenset(roles)

    @bp.before_request
    def _guard() -> Response | None:
        if request.method == "POST":
            check_csrf()
        if public:
            return None
        actor = page_actor()
        if required and not actor.has(*required):
            return error_page(403, _("This page is for %(roles)s.",
                                     roles=", ".join(_role_label(r) for r in sorted(required))))
        return None

    bp.after_request(_security_headers)
    bp.register_error_handler(DomainError, _domain_error)
    return bp


def requires(*roles: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A page for some roles only (the services still decide what each action may do)."""
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not page_actor().has(*roles):
                return error_page(403, _("This page is for %(roles)s.",
                                         roles=", ".join(_role_label(r) for r in roles)))
            return view(*args, **kwargs)
        return guarded
    return decorate


def _role_label(role: Role) -> str:
    from docsvc.web.pages.i18n import label
    return label("role", role.value)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    # connect-src: the signing page calls the leader's own docsvc-signer on 127.0.0.1 (its port only)
    local_signer = f"http://127.0.0.1:{container().settings.local_signer_port}"
    response.headers.setdefault("Content-Security-Policy",
                                f"default-src 'self'; connect-src 'self' {local_signer}; img-src 'self' data:; "
                                "object-src 'self'; frame-ancestors 'self'; base-uri 'self'; form-action 'self'")
    if session.get(TOKEN_KEY):
        response.headers["Cache-Control"] = "private, no-store"  # nothing readable after logout via Back
    return response


def _domain_error(exc: DomainError) -> Response:
    if isinstance(exc, Unauthenticated):
        return login_redirect(expired=bool(session.get(TOKEN_KEY)) or request.method == "POST")
    message = user_message(exc)
    return error_page(exc.status, message.text, message.detail)


def login_redirect(expired: bool = False) -> Response:
    if expired:
        flash(_("Your session has ended: please log in again."), "warning")
    target = request.full_path.rstrip("?") if request.method == "GET" else request.referrer
    return redirect(url_for("auth.login", next=safe_next(target, "")), 303 if request.method == "POST" else 302)


def render(template: str, status: int = 200, /, **context: Any) -> Any:
    """A page, with a status other than 200 when it is re-shown after a refused POST."""
    page = render_template(template, **context)
    return page if status == 200 else (page, status)


def error_page(status: int, message: str, detail: str | None = None) -> Response:
    titles = {400: _("The request cannot be carried out"), 403: _("Not allowed"), 404: _("Not found"),
              405: _("Not allowed"), 409: _("Not possible now"), 410: _("No longer available"),
              413: _("Upload too large"),
              422: _("Not possible"), 423: _("Locked"), 503: _("Temporarily unavailable")}
    body = render_template("error.html", status=status, title=titles.get(status, _("Error")), message=message,
                           detail=detail)
    response = Response(body, status=status, mimetype="text/html")
    return _security_headers(response)


# ---------------------------------------------------------------- actions
def act(call: Callable[[Actor], Any], *, done: Callable[[Any], str] | str, then: Callable[[Any], str] | str,
        on_error: Callable[[Actor, int], Any]) -> Any:
    """Run one service call for a POST: on success flash ``done`` and redirect to ``then`` (303);
    on a domain error show the message on the re-rendered page with the error's status.
    Not found and unauthenticated stay what they are (404 page, login)."""
    actor = page_actor()
    try:
        result = call(actor)
    except DomainError as exc:
        if exc.status in (401, 404) or isinstance(exc, CsrfRefused):
            raise
        message = user_message(exc)
        flash(message.text + (f" ({message.detail})" if message.detail else ""), "error")
        g.failed_action = exc
        return on_error(actor, exc.status)
    flash(done(result) if callable(done) else done, "success")
    return redirect(then(result) if callable(then) else then, 303)


def json_action(call: Callable[[Actor], Any], status: int) -> tuple[Response, int]:
    """A page's script calling a service (session + CSRF header): JSON answer, or the JSON error
    body of the API with the message users see on pages."""
    from flask import jsonify
    actor = page_actor()
    try:
        return jsonify(call(actor)), status
    except DomainError as exc:
        if isinstance(exc, Unauthenticated):
            raise
        message = user_message(exc)
        return jsonify({"error": {"code": exc.code, "message": message.text + (
            f" ({message.detail})" if message.detail else "")}}), exc.status


def raise_item_error(item: Mapping[str, Any]) -> None:
    """A batch's per-document result as the error of a one-document action."""
    error = item.get("error")
    if error:
        exc = DomainError(error["message"])
        exc.code, exc.status = error["code"], error.get("status", 422)
        raise exc


#: A page's table of POST actions: name → (service call on one record, message on success).
ActionTable = Mapping[str, tuple[Callable[[Actor, int], Any], Callable[[Any], str]]]


def dispatch(actions: ActionTable, name: str, record_id: int, *, then: Callable[[Any], str] | str,
             on_error: Callable[[Actor, int], Any]) -> Any:
    """Run the action ``name`` of a page's table on one record (404 for a name not in it)."""
    if name not in actions:
        abort(404)
    call, done = actions[name]
    return act(lambda actor: call(actor, record_id), done=done, then=then, on_error=on_error)


def app_error_page(status: int, code: str, message: str) -> Response:
    """Errors raised outside a page blueprint (unknown URL, wrong method, upload over the limit,
    an unexpected failure) on a path that is not the API's."""
    if status >= 500:
        return error_page(status, _("An unexpected error occurred; it has been logged.") if status == 500 else
                          _("A service the application needs is unavailable; try again shortly."))
    exc = DomainError(message)
    exc.code, exc.status = {404: "not_found", 405: "forbidden", 413: "payload_too_large"}.get(status, code), status
    text = user_message(exc)
    return error_page(status, text.text)
