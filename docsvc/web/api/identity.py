"""Authentication, the current user, organisations and users."""

from __future__ import annotations

from typing import Literal

from flask import Response
from pydantic import BaseModel, Field

from docsvc.domain.identity import Actor
from docsvc.web.api import api
from docsvc.web.api.common import Page, PageQuery, StrictModel, page_of
from docsvc.web.api.spec import endpoint
from docsvc.web.auth import bearer_token
from docsvc.web.context import container, origin

RoleName = Literal["clerk", "officer", "unit_head", "leader", "archivist", "admin"]
ClearanceName = Literal["none", "mat", "toi_mat", "tuyet_mat"]


class TokenRequest(StrictModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"]
    expires_at: str


class OrganisationOut(BaseModel):
    id: int
    kind: Literal["province", "department", "commune", "unit"]
    name: str
    abbreviation: str
    organ_id: str | None
    parent_id: int | None
    agency_id: int
    status: Literal["active", "merged", "split", "renamed"] = "active"
    ceased_on: str | None = None
    ceased_by: str | None = None


class OrganisationIn(StrictModel):
    kind: Literal["province", "department", "commune", "unit"]
    name: str = Field(min_length=1, max_length=200)
    abbreviation: str = Field(min_length=1, max_length=20)
    organ_id: str | None = Field(None, description="13-character agency code, e.g. 000.00.00.H41")
    parent_id: int | None = Field(None, ge=1)


class UserOut(BaseModel):
    id: int
    username: str
    full_name: str
    position: str
    email: str | None
    agency_id: int
    agency_name: str
    roles: list[str]
    clearance: ClearanceName
    unit_ids: list[int]
    is_active: bool


class UserIn(StrictModel):
    username: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=10, max_length=256)
    full_name: str = Field(min_length=1, max_length=200)
    agency_id: int = Field(ge=1)
    roles: list[RoleName] = Field(min_length=1)
    clearance: ClearanceName = "none"
    unit_ids: list[int] = []
    position: str = Field("", max_length=200)
    email: str | None = Field(None, max_length=200)


class UserPatch(StrictModel):
    roles: list[RoleName] | None = Field(None, min_length=1)
    clearance: ClearanceName | None = None
    unit_ids: list[int] | None = None
    position: str | None = Field(None, max_length=200)
    is_active: bool | None = None
    password: str | None = Field(None, min_length=10, max_length=256)


class UserQuery(PageQuery):
    agency_id: int | None = Field(None, ge=1)


@endpoint(api, "/auth/token", method="POST", summary="Log in with username and password", tag="auth",
          auth=False, body=TokenRequest, response=TokenOut, status=201,
          errors={401: "Wrong username or password", 423: "Account locked after repeated failures",
                  429: "Too many login attempts for this account or address (Retry-After)"})
def create_token(body: TokenRequest) -> dict:
    """Returns a bearer token for the API. Tokens expire (DOCSVC_TOKEN_TTL_HOURS) and can be revoked."""
    return container().identity.issue_token(body.username, body.password, origin()).to_dict()


@endpoint(api, "/auth/token", method="DELETE", summary="Log out (revoke the token used for this call)",
          tag="auth", status=204)
def revoke_token(actor: Actor) -> Response:
    container().identity.revoke_token(bearer_token() or "", actor, origin())
    return Response(status=204)


@endpoint(api, "/me", summary="The current user", tag="auth", response=UserOut)
def me(actor: Actor) -> dict:
    return container().identity.get_user(actor, actor.user_id).to_dict()


@endpoint(api, "/organisations", summary="Organisations (agencies and units)", tag="identity",
          query=PageQuery, response=Page[OrganisationOut])
def list_organisations(query: PageQuery) -> dict:
    return page_of(container().identity.list_organisations(), query)


@endpoint(api, "/organisations", method="POST", summary="Create an organisation or unit (admin)",
          tag="identity", body=OrganisationIn, response=OrganisationOut, status=201,
          errors={409: "OrganId or abbreviation already used"})
def create_organisation(actor: Actor, body: OrganisationIn) -> dict:
    return container().identity.add_organisation(actor, origin=origin(), **body.model_dump()).to_dict()


@endpoint(api, "/organisations/<int:org_id>", summary="One organisation", tag="identity",
          response=OrganisationOut, errors={404: "No such organisation"})
def get_organisation(org_id: int) -> dict:
    return container().identity.get_organisation(org_id).to_dict()


@endpoint(api, "/users", summary="Users of your agency and below", tag="identity", query=UserQuery,
          response=Page[UserOut])
def list_users(actor: Actor, query: UserQuery) -> dict:
    return page_of(container().identity.list_users(actor, query.agency_id), query)


@endpoint(api, "/users", method="POST", summary="Create a user (admin)", tag="identity", body=UserIn,
          response=UserOut, status=201, errors={409: "Username taken"})
def create_user(actor: Actor, body: UserIn) -> dict:
    return container().identity.add_user(actor, origin=origin(), **body.model_dump()).to_dict()


@endpoint(api, "/users/<int:user_id>", summary="One user", tag="identity", response=UserOut,
          errors={404: "No such user"})
def get_user(actor: Actor, user_id: int) -> dict:
    return container().identity.get_user(actor, user_id).to_dict()


@endpoint(api, "/users/<int:user_id>", method="PATCH",
          summary="Change a user's roles, clearance, units, position, password or status (admin)",
          tag="identity", body=UserPatch, response=UserOut, errors={404: "No such user"})
def update_user(actor: Actor, user_id: int, body: UserPatch) -> dict:
    """Changing rights or the password revokes the user's existing tokens."""
    return container().identity.update_user(actor, user_id, origin=origin(),
                                            **body.model_dump(exclude_none=True)).to_dict()
