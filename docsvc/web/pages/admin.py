"""Administration: users (roles, clearance, units, deactivation), organisations and units, and the
approval chain templates of the agency. The identity and approval services decide what an
administrator may change (their own agency and below)."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from docsvc.domain.approval import APPROVER_ROLES, StepKind
from docsvc.domain.identity import Actor, Role, Secrecy
from docsvc.errors import NotFound
from docsvc.services.identity import OrganisationView
from docsvc.web.context import container
from docsvc.web.pages import forms
from docsvc.web.pages.base import act, page_actor, page_blueprint, render, web_origin
from docsvc.web.pages.nav import NavItem

ADMINS = frozenset({Role.ADMIN})
bp = page_blueprint("admin", __name__, url_prefix="/admin", roles=ADMINS)
NAV = [NavItem("admin.users", _l("Users"), order=70, roles=ADMINS),
       NavItem("admin.units", _l("Units"), order=71, roles=ADMINS),
       NavItem("admin.chains", _l("Approval chains"), order=72, roles=ADMINS),
       NavItem("admin.quarantine", _l("Quarantined work"), order=73, roles=ADMINS)]

STEP_ROWS = 6  # rows of the chain template form
ROLES = [r.value for r in Role]
CLEARANCES = [s.key for s in Secrecy]


def _organisations(actor: Actor) -> list[OrganisationView]:
    """The administrator's agency and everything below it, in tree order."""
    orgs = container().identity.list_organisations()
    children: dict[int | None, list[OrganisationView]] = {}
    for o in orgs:
        children.setdefault(o.parent_id, []).append(o)
    out: list[OrganisationView] = []
    stack = [o for o in orgs if o.id == actor.agency_id]
    while stack:
        node = stack.pop(0)
        out.append(node)
        stack[:0] = sorted(children.get(node.id, []), key=lambda o: (o.kind == "unit", o.name))
    return out


# ---------------------------------------------------------------- users
@bp.get("/users")
def users() -> str:
    actor = page_actor()
    orgs = {o.id: o for o in _organisations(actor)}
    return render_template("admin_users.html", users=container().identity.list_users(actor), orgs=orgs)


def _user_form(user: Any = None, status: int = 200) -> Any:
    return render("admin_user.html", status, user=user, orgs=_organisations(page_actor()), roles=ROLES,
                  clearances=CLEARANCES)


@bp.get("/users/new")
def new_user() -> str:
    return _user_form()


@bp.post("/users/new")
def create_user() -> Response:
    return act(lambda actor: container().identity.add_user(
        actor, username=forms.text("username"), password=request.form.get("password", ""),
        full_name=forms.text("full_name"), agency_id=forms.optional_int("agency_id") or 0,
        roles=request.form.getlist("roles"), clearance=forms.text("clearance", "none"),
        unit_ids=forms.int_list("unit_ids"), position=forms.text("position"), email=forms.text("email") or None,
        origin=web_origin()),
        done=lambda u: _("User %(name)s created.", name=u.username), then=url_for("admin.users"),
        on_error=lambda actor, status: _user_form(status=status))


@bp.get("/users/<int:user_id>")
def edit_user(user_id: int) -> str:
    return _user_form(container().identity.get_user(page_actor(), user_id))


@bp.post("/users/<int:user_id>")
def update_user(user_id: int) -> Response:
    def call(actor: Actor) -> Any:
        return container().identity.update_user(
            actor, user_id, roles=request.form.getlist("roles"), clearance=forms.text("clearance", "none"),
            unit_ids=forms.int_list("unit_ids"), position=forms.text("position"), is_active=forms.flag("is_active"),
            password=request.form.get("password") or None, origin=web_origin())
    return act(call, done=lambda u: _("User %(name)s saved.", name=u.username), then=url_for("admin.users"),
               on_error=lambda actor, status: _user_form(container().identity.get_user(actor, user_id), status))


# ---------------------------------------------------------------- organisations and units
def _units_page(status: int = 200) -> Any:
    return render("admin_units.html", status, orgs=_organisations(page_actor()))


@bp.get("/units")
def units() -> str:
    return _units_page()


@bp.post("/units")
def create_unit() -> Response:
    return act(lambda actor: container().identity.add_organisation(
        actor, kind=forms.text("kind", "unit"), name=forms.text("name"), abbreviation=forms.text("abbreviation"),
        organ_id=forms.text("organ_id") or None, parent_id=forms.optional_int("parent_id"), origin=web_origin()),
        done=lambda o: _("%(name)s created.", name=o.name), then=url_for("admin.units"),
        on_error=lambda actor, status: _units_page(status))


# ---------------------------------------------------------------- quarantined background work
def _quarantine_page(status: int = 200) -> Any:
    return render("admin_quarantine.html", status, items=container().quarantine.list(page_actor()))


@bp.get("/quarantine")
def quarantine() -> Any:
    return _quarantine_page()


@bp.post("/quarantine/<int:item_id>/release")
def release_quarantine(item_id: int) -> Response:
    return act(lambda actor: container().quarantine.release(actor, item_id, web_origin()),
               done=_("Released: the work will be tried again."), then=url_for("admin.quarantine"),
               on_error=lambda actor, status: _quarantine_page(status))


# ---------------------------------------------------------------- approval chain templates
@bp.get("/chains")
def chains() -> str:
    actor = page_actor()
    names = {u.id: u.full_name for u in container().identity.list_users(actor, actor.agency_id)}
    return render_template("admin_chains.html", templates=container().approval.list_templates(actor), names=names)


def _chain_form(template: dict[str, Any] | None = None, status: int = 200) -> Any:
    actor = page_actor()
    return render("admin_chain.html", status, template=template, rows=STEP_ROWS, kinds=[k.value for k in StepKind],
                  approver_roles=APPROVER_ROLES, types=container().document_types(),
                  users=container().identity.list_users(actor, actor.agency_id))


def _template(actor: Actor, template_id: int) -> dict[str, Any]:
    found = next((t for t in container().approval.list_templates(actor) if t["id"] == template_id), None)
    if found is None:
        raise NotFound(f"chain template {template_id} not found")
    return found


def _steps() -> list[dict[str, Any]]:
    """The filled-in rows of the form as template steps."""
    steps = []
    for i in range(STEP_ROWS):
        kind = forms.text(f"kind_{i}")
        if not kind:
            continue
        approver = forms.text(f"approver_{i}")
        who, _sep, value = approver.partition(":")
        approvers: list[dict[str, Any]] = []
        if who == "user" and value.isdigit():
            approvers.append({"user_id": int(value)})
        elif who == "role":
            approvers.append({"role": value, **({"unit": "drafting"} if forms.flag(f"drafting_{i}") else {})})
        step: dict[str, Any] = {"kind": kind, "mode": forms.text(f"mode_{i}", "any"), "approvers": approvers}
        if forms.text(f"title_{i}"):
            step["title"] = forms.text(f"title_{i}")
        steps.append(step)
    return steps


def _save(actor: Actor, template_id: int | None) -> dict[str, Any]:
    return container().approval.save_template(actor, agency_id=actor.agency_id, name=forms.text("name"),
                                              steps=_steps(), type_code=forms.text("type_code") or None,
                                              template_id=template_id, origin=web_origin())


@bp.get("/chains/new")
def new_chain() -> str:
    return _chain_form()


@bp.post("/chains/new")
def create_chain() -> Response:
    return act(lambda actor: _save(actor, None), done=lambda t: _("Chain %(name)s saved.", name=t["name"]),
               then=url_for("admin.chains"), on_error=lambda actor, status: _chain_form(status=status))


@bp.get("/chains/<int:template_id>")
def edit_chain(template_id: int) -> str:
    return _chain_form(_template(page_actor(), template_id))


@bp.post("/chains/<int:template_id>")
def update_chain(template_id: int) -> Response:
    return act(lambda actor: _save(actor, template_id), done=lambda t: _("Chain %(name)s saved.", name=t["name"]),
               then=url_for("admin.chains"),
               on_error=lambda actor, status: _chain_form(_template(actor, template_id), status))
