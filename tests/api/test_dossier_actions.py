"""The dossier actions the pages offer (``docsvc.services.dossier_actions``) match what the archive
services accept: nothing the services would accept is hidden, and the services refuse the rest.

A construction dossier is driven through its states (planned, open, closed, archived, held,
released) and an expired one through disposal to destroyed; at every state each demo user's
offered actions are computed as the dossier page does, every action *not* offered is attempted
through its service and must be refused, and the step the flow takes next must be offered to
whoever takes it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from docsvc.domain.identity import Actor
from docsvc.errors import NotFound
from docsvc.services.archives.common import HOLD_KEEPERS
from docsvc.services.dossier_actions import DOSSIER_ACTIONS, dossier_actions
from docsvc.timeutil import vn_today
from tests.api.archive_support import registered_incoming
from tests.helpers import assert_refused_unless_offered

USERS = ("vanthu", "chuyenvien", "truongphong", "chutich", "luutru", "quantri", "snv.vanthu")
COUNCIL = ["Hoàng Văn Nam", "Đỗ Văn Bình", "Lê Thị Hoa"]


class DossierFlow:
    def __init__(self, container: Any, demo: Any, api: Any) -> None:
        self.c, self.ids = container, demo.users
        self.actors: dict[str, Actor] = {u: container.identity.actor_for(demo.users[u]) for u in USERS}
        self.spare = registered_incoming(api, 90)["id"]  # a document that is in no dossier

    def offered(self, username: str, dossier_id: int) -> frozenset[str]:
        actor = self.actors[username]
        try:
            dossier = self.c.dossiers.get(actor, dossier_id)
        except NotFound:
            return frozenset()  # the page is a 404
        held = actor.has(*HOLD_KEEPERS) and any(h["dossier_id"] == dossier_id and h["active"]
                                               for h in self.c.holds.list(actor))
        return dossier_actions(actor, dossier, held_directly=held)

    def attempts(self, dossier_id: int, filed: int) -> dict[str, Callable[[Actor], Any]]:
        c = self.c

        def export(actor: Actor) -> None:
            c.exports.export(actor, dossier_id, renditions=False).discard()

        def release(actor: Actor) -> Any:
            active = [h for h in c.holds.list(self.actors["chutich"]) if h["dossier_id"] == dossier_id and h["active"]]
            return c.holds.release(actor, active[0]["id"] if active else 999999, reason="Hết căn cứ")

        return {
            "edit": lambda a: c.dossiers.update(a, dossier_id, description="Bổ sung ghi chú"),
            "open": lambda a: c.dossiers.open(a, dossier_id),
            "file": lambda a: c.dossiers.file(a, dossier_id, self.spare),
            "unfile": lambda a: c.dossiers.unfile(a, dossier_id, filed),
            "close": lambda a: c.dossiers.close(a, dossier_id),
            "reopen": lambda a: c.dossiers.reopen(a, dossier_id, reason="Bổ sung"),
            "settlement": lambda a: c.dossiers.set_settlement(a, dossier_id, vn_today()),
            "extend_retention": lambda a: c.dossiers.extend_retention(a, dossier_id, retention_code="VV-01",
                                                                     reason="Giá trị lịch sử"),
            "export": export,
            "hold": lambda a: c.holds.place(a, reason="Thanh tra", dossier_id=dossier_id),
            "release": release,
            "transfer": lambda a: c.transfers.transfer(a, [dossier_id]),
        }

    def check(self, dossier_id: int, filed: int) -> None:
        """Everything not offered is refused by the service (and so changes nothing)."""
        attempts = self.attempts(dossier_id, filed)
        assert set(attempts) == set(DOSSIER_ACTIONS)
        for username in USERS:
            assert_refused_unless_offered(attempts, self.offered(username, dossier_id), self.actors[username],
                                          who=username, state=f"dossier {dossier_id}")

    def step(self, username: str, action: str, dossier_id: int, filed: int) -> Any:
        assert action in self.offered(username, dossier_id), (username, action, self.offered(username, dossier_id))
        return self.attempts(dossier_id, filed)[action](self.actors[username])


def test_offered_dossier_actions_are_never_wider_than_the_services(container, demo, api) -> None:  # type: ignore[no-untyped-def]
    flow = DossierFlow(container, demo, api)
    plan = container.dossiers.create_plan(flow.actors["luutru"], year=vn_today().year)
    d = container.dossiers.add(flow.actors["luutru"], plan["id"], notation="01.XD",
                               title="Hồ sơ công trình nhà văn hóa", retention_code="XD-50",
                               owner_id=flow.ids["chuyenvien"], construction=True)
    doc = registered_incoming(api, 1)["id"]
    did = d["id"]

    flow.check(did, doc)  # planned
    assert flow.offered("chuyenvien", did) == {"edit", "open", "settlement"}
    flow.step("chuyenvien", "open", did, doc)
    flow.check(did, doc)  # open, empty
    container.dossiers.file(flow.actors["vanthu"], did, doc)
    flow.check(did, doc)  # open, one document
    assert {"file", "unfile", "close", "edit", "settlement"} <= flow.offered("vanthu", did)
    flow.step("chuyenvien", "close", did, doc)
    flow.check(did, doc)  # closed
    assert "transfer" in flow.offered("luutru", did) and "transfer" not in flow.offered("vanthu", did)
    flow.step("luutru", "transfer", did, doc)
    flow.check(did, doc)  # archived
    flow.step("chutich", "hold", did, doc)
    flow.check(did, doc)  # archived and held
    assert "release" in flow.offered("luutru", did) and "hold" not in flow.offered("luutru", did)
    flow.step("luutru", "release", did, doc)
    flow.check(did, doc)  # released again

    # An expired dossier through disposal: destroyed, only its export remains (metadata kept).
    old = container.dossiers.add(flow.actors["luutru"], plan["id"], notation="02.CV", title="Công văn trao đổi cũ",
                                 retention_code="CV-05", open_now=True)
    old_doc = registered_incoming(api, 2)["id"]
    container.dossiers.file(flow.actors["vanthu"], old["id"], old_doc)
    container.dossiers.close(flow.actors["luutru"], old["id"], work_ended_on=date(2010, 6, 30))
    listed = container.disposal.propose(flow.actors["luutru"])
    lid = listed[0]["list_id"]
    container.disposal.review(flow.actors["luutru"], lid, opinion="Hết giá trị", members=COUNCIL)
    container.disposal.decide(flow.actors["chutich"], lid, approve=True, decision_ref="25/QĐ-UBND")
    container.disposal.destroy(flow.actors["luutru"], lid)
    flow.check(old["id"], old_doc)
    assert flow.offered("luutru", old["id"]) == {"export"} and flow.offered("chutich", old["id"]) == frozenset()
