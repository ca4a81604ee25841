"""Exchange through RabbitMQ (issue 17): the decision and its statuses between two deployments over a
real broker; a broker restart in the middle loses nothing; a delivery repeated after a crash between
commit and acknowledgement is applied once. Runs when DOCSVC_EXCHANGE_BROKER_URL is set (CI sets it
through scripts/services.sh); the restart test starts a private RabbitMQ of its own."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from docsvc.db.models import ExchangeMessage
from tests.api.exchange_support import Deployment, random_organ_id, two_deployments
from tests.helpers import me
from tests.helpers import signed_draft as _signed_draft

BROKER_URL = os.environ.get("DOCSVC_EXCHANGE_BROKER_URL", "")
ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not BROKER_URL,
                                reason="DOCSVC_EXCHANGE_BROKER_URL is not set (scripts/services.sh env)")


def _issue(a: Deployment, organ_id: str, subject: str = "Quyết định phê duyệt danh sách hộ nghèo năm 2026") -> dict:
    doc = _signed_draft(a.api, subject=subject)
    r = a.api.as_user("vanthu").post(f"/api/v1/documents/{doc['id']}/issue", json={"recipients": [
        {"name": "Sở Nội vụ tỉnh B", "organ_id": organ_id}]})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _statuses(a: Deployment, doc_id: int) -> list[str]:
    [r] = a.api.as_user("vanthu").get(f"/api/v1/documents/{doc_id}/recipients").get_json()["items"]
    return [st["code"] for st in r["exchange"]["statuses"]]


def _b_incoming(b: Deployment) -> list[dict]:
    return b.api.as_user("snv.vanthu").get("/api/v1/documents?direction=incoming").get_json()["items"]


@pytest.fixture
def ids() -> tuple[str, str]:
    return random_organ_id("H42"), random_organ_id("H41")


def test_decision_and_statuses_through_the_broker(backend: str, tmp_path: Path, pki: Any,
                                                 request: pytest.FixtureRequest, ids: tuple[str, str]) -> None:
    b_snv, a_commune = ids
    with two_deployments(backend, tmp_path, pki, request, b_snv=b_snv, a_commune=a_commune,
                         exchange_broker_url=BROKER_URL, exchange_default_transport="broker") as (a, b):
        doc = _issue(a, b_snv)
        assert a.exchange.send_pending().sent == 1
        assert b.exchange.receive() == 1
        [copy] = _b_incoming(b)
        assert b.api.as_user("snv.vanthu").post(f"/api/v1/documents/{copy['id']}/register", json={}).status_code == 200
        officer_id = me(b.api, "snv.chuyenvien")["id"]
        assert b.api.as_user("snv.giamdoc").post(f"/api/v1/documents/{copy['id']}/assignments", json={
            "lead": {"user_id": officer_id}, "deadline_days": 5}).status_code in (200, 201)
        officer = b.api.as_user("snv.chuyenvien")
        assert officer.post(f"/api/v1/documents/{copy['id']}/progress", json={"text": "Đang làm"}).status_code in (
            200, 201)
        assert officer.post(f"/api/v1/documents/{copy['id']}/complete", json={}).status_code == 200
        assert b.exchange.send_pending().sent == 5  # 01 at arrival, 03, 04, 05, 06
        assert a.exchange.receive() == 5
        assert _statuses(a, doc["id"]) == ["01", "03", "04", "05", "06"]


def test_crash_between_commit_and_ack_is_applied_once(backend: str, tmp_path: Path, pki: Any,
                                                      request: pytest.FixtureRequest, ids: tuple[str, str]) -> None:
    b_snv, a_commune = ids
    with two_deployments(backend, tmp_path, pki, request, b_snv=b_snv, a_commune=a_commune,
                         exchange_broker_url=BROKER_URL, exchange_default_transport="broker") as (a, b):
        _issue(a, b_snv)
        a.exchange.send_pending()
        transport = b.container.exchange_transports["broker"]

        def crash_after_commit(envelope: Any, name: str) -> None:
            b.exchange.handle(envelope, name)
            raise KeyboardInterrupt("worker killed before the acknowledgement")

        with pytest.raises(KeyboardInterrupt):
            transport.receive([b_snv], crash_after_commit)
        assert len(_b_incoming(b)) == 1
        assert b.exchange.receive() == 1  # redelivered, recognised by its message id, acknowledged
        assert len(_b_incoming(b)) == 1
        assert b.exchange.receive() == 0


@pytest.mark.skipif(not shutil.which("rabbitmq-server"), reason="rabbitmq-server is not installed")
def test_broker_restart_in_the_middle_loses_nothing(backend: str, tmp_path: Path, pki: Any,
                                                    request: pytest.FixtureRequest, ids: tuple[str, str]) -> None:
    from tests.faults.private import free_ports
    (port,) = free_ports(1, companions=(10000,))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DOCSVC_SVC_")},
           "DOCSVC_SVC_DIR": str(ROOT / "var" / "test-services" / f"rabbit-{port}"),
           "DOCSVC_SVC_RABBIT_PORT": str(port)}

    def services(action: str) -> None:
        r = subprocess.run(["bash", str(ROOT / "scripts" / "services.sh"), action, "rabbitmq"], env=env,
                           capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, r.stderr[-2000:]

    services("up")
    try:
        b_snv, a_commune = ids
        url = f"amqp://guest:guest@127.0.0.1:{port}//"
        with two_deployments(backend, tmp_path, pki, request, b_snv=b_snv, a_commune=a_commune,
                             exchange_broker_url=url, exchange_default_transport="broker") as (a, b):
            docs = [_issue(a, b_snv, subject=f"Quyết định số {i} về việc phê duyệt") for i in range(3)]
            assert a.exchange.send_pending().sent == 3  # confirmed by the broker
            services("down")
            # The broker is away: a send fails, stays queued with its reason, and is retried later.
            docs.append(_issue(a, b_snv, subject="Quyết định gửi khi máy chủ trung gian dừng"))
            assert a.exchange.send_pending().retrying == 1
            [r] = a.api.as_user("vanthu").get(f"/api/v1/documents/{docs[-1]['id']}/recipients").get_json()["items"]
            assert r["status_code"] is None and r["exchange"]["message"]["state"] == "queued"
            assert r["exchange"]["message"]["last_error"] and r["exchange"]["message"]["next_attempt_at"].endswith(
                "+07:00")
            services("up")
            with a.container.db.write() as s:  # the back-off has passed
                s.execute(update(ExchangeMessage).values(next_attempt_at=datetime(2000, 1, 1, tzinfo=UTC)))
            assert a.exchange.send_pending().sent == 1
            assert b.exchange.receive() == 4
            assert sorted(d["subject"] for d in _b_incoming(b)) == sorted(d["subject"] for d in docs)
            assert b.exchange.send_pending().sent == 4
            services("restart")
            assert a.exchange.receive() == 4
            assert all(_statuses(a, d["id"]) == ["01"] for d in docs)
            assert a.exchange.receive() == 0 and b.exchange.receive() == 0  # nothing twice
    finally:
        services("down")
        shutil.rmtree(env["DOCSVC_SVC_DIR"], ignore_errors=True)
