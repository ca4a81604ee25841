"""Signing certificates are enrolled by one use case (``container.enrolment``) whatever the door: the
API and the profile page for oneself, the CLI and an administrator for someone else. Who may hold a key
and who may enrol whom is the same rule at every door, and every enrolment is audited."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from docsvc.domain.identity import Role
from docsvc.domain.policies import SYSTEM
from docsvc.errors import NotFound, PermissionDenied


def _actor(container: Any, user_id: int) -> Any:
    return container.identity.actor_for(user_id)


def _audited(container: Any, user_id: int) -> list[Any]:
    from sqlalchemy import select

    from docsvc.db.models import AuditEvent
    with container.db.read() as s:
        return list(s.execute(select(AuditEvent).where(AuditEvent.action == "signing_key.enrol",
                                                       AuditEvent.object_id == str(user_id))).scalars())


def test_an_administrator_enrols_a_leader_of_his_agency_and_the_event_names_him(container, demo) -> None:  # type: ignore[no-untyped-def]
    admin = _actor(container, demo.users["quantri"])
    key = container.enrolment.enrol(admin, "246810", username="phochutich")
    assert key["kind"] == "pkcs12" and "Phạm Thị Mai" in key["subject"]
    assert container.enrolment.my_key(_actor(container, demo.users["phochutich"]))["serial"] == key["serial"]
    events = _audited(container, demo.users["phochutich"])
    assert [e.actor_id for e in events] == [demo.users["quantri"]]


def test_no_one_else_enrols_a_person_and_a_role_that_does_not_sign_gets_no_key(container, demo) -> None:  # type: ignore[no-untyped-def]
    officer = _actor(container, demo.users["chuyenvien"])
    with pytest.raises(PermissionDenied):  # not an administrator
        container.enrolment.enrol(officer, "246810", username="chutich")
    province_admin = _actor(container, demo.users["tinh.quantri"])  # over the commune: allowed
    assert container.enrolment.enrol(province_admin, "246810", username="chutich")["serial"]
    with pytest.raises(PermissionDenied, match="does not sign"):  # the archivist signs nothing
        container.enrolment.enrol(SYSTEM, "246810", username="luutru")
    with pytest.raises(PermissionDenied, match="does not sign"):
        container.enrolment.enrol(_actor(container, demo.users["luutru"]), "246810")
    with pytest.raises(NotFound):
        container.enrolment.enrol(SYSTEM, "246810", username="nobody")
    assert _audited(container, demo.users["luutru"]) == []


def test_an_administrator_of_a_sister_agency_may_not_enrol(container, demo) -> None:  # type: ignore[no-untyped-def]
    # an administrator of the Sở Nội vụ, a sister of the commune
    snv_admin = replace(_actor(container, demo.users["snv.chuyenvien"]), roles=frozenset({Role.ADMIN}))
    with pytest.raises(PermissionDenied, match="own agency"):
        container.enrolment.enrol(snv_admin, "246810", username="chutich")
    assert _audited(container, demo.users["chutich"]) == []


def test_the_api_and_the_cli_door_give_the_same_answer(api, container, demo) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from docsvc.cli import main
    r = api.as_user("luutru").post("/api/v1/me/signing-key", json={"pin": "246810"})
    assert r.status_code == 403 and "does not sign" in r.get_json()["error"]["message"]
    r = api.as_user("phochutich").post("/api/v1/me/signing-key", json={"pin": "246810"})
    assert r.status_code == 201, r.get_json()
    from tests.helpers import settings_env
    runner = CliRunner()
    out = runner.invoke(main, ["ca", "enrol", "luutru"], env={**settings_env(container.settings),
                                                              "DOCSVC_NEW_PIN": "246810"})
    assert out.exit_code != 0 and "does not sign" in out.output
