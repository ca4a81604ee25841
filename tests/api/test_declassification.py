"""Protection periods of secret documents: counted from classification per level, a review list 60
days ahead, extension or declassification by the head with the decision recorded, automatic
declassification at the end; a declassified document is handled like any other (isolated LAN here,
so secret content is stored, encrypted)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest

from docsvc.domain.archives import add_years
from docsvc.timeutil import vn_today
from tests.api.archive_support import raise_clearance, registered_incoming
from tests.helpers import assert_error


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"secrecy_policy": "isolated"}


def _classified(api: Any, n: int, days_left: int, level: str = "mat", years: int = 10, **fields: Any) -> dict:
    """A secret incoming document issued (classified) so that its protection ends in ``days_left`` days."""
    issued = add_years(vn_today() + timedelta(days=days_left), -years)
    return registered_incoming(api, n, secrecy=level, issued_date=issued.isoformat(), **fields)


def test_review_list_extension_and_declassification(api, container) -> None:  # type: ignore[no-untyped-def]
    leader, officer, clerk = api.as_user("chutich"), api.as_user("chuyenvien"), api.as_user("vanthu")
    soon = _classified(api, 1, days_left=14)
    later = _classified(api, 2, days_left=45)
    far = _classified(api, 3, days_left=2000)
    review = leader.get("/api/v1/secrecy/review").get_json()["items"]
    assert [(x["document_id"], x["days_left"]) for x in review] == [(soon["id"], 14), (later["id"], 45)]
    assert review[0]["protected_until"] == (vn_today() + timedelta(days=14)).isoformat()
    assert review[0]["secrecy_label"] == "Mật"
    assert far["id"] in [x["document_id"] for x in leader.get("/api/v1/secrecy/review",
                                                              query_string={"within_days": 3000}).get_json()["items"]]
    assert_error(officer.get("/api/v1/secrecy/review"), 403)

    # Extension: the head only, at most one period of the level, with the decision's reference.
    body = {"years": 5, "reason": "Còn nguyên giá trị bảo mật", "decision_ref": "12/QĐ-UBND"}
    assert_error(clerk.post(f"/api/v1/documents/{soon['id']}/secrecy/extend", json=body), 403)
    assert_error(leader.post(f"/api/v1/documents/{soon['id']}/secrecy/extend", json={**body, "years": 11}), 400)
    assert_error(leader.post(f"/api/v1/documents/{soon['id']}/secrecy/extend", json={"years": 5, "reason": "x"}), 400)
    r = leader.post(f"/api/v1/documents/{soon['id']}/secrecy/extend", json=body)
    assert r.status_code == 200, r.get_json()
    extended = r.get_json()
    assert extended["late"] is True  # decided less than 60 days before the end
    assert extended["protected_until"] == add_years(vn_today() + timedelta(days=14), 5).isoformat()
    assert soon["id"] not in [x["document_id"] for x in leader.get("/api/v1/secrecy/review").get_json()["items"]]
    history = leader.get(f"/api/v1/documents/{soon['id']}/secrecy").get_json()
    assert [d["action"] for d in history["decisions"]] == ["extend"]
    assert history["decisions"][0]["decision_ref"] == "12/QĐ-UBND"

    # Declassification by decision: from then on an ordinary document.
    assert_error(officer.get(f"/api/v1/documents/{later['id']}"), 404)
    r = leader.post(f"/api/v1/documents/{later['id']}/secrecy/declassify",
                    json={"reason": "Không còn bí mật", "decision_ref": "13/QĐ-UBND"})
    assert r.status_code == 200 and r.get_json()["secrecy"] == "none"
    got = clerk.get(f"/api/v1/documents/{later['id']}").get_json()
    assert got["secrecy"] == "none"
    assert_error(leader.post(f"/api/v1/documents/{later['id']}/secrecy/declassify",
                             json={"reason": "again", "decision_ref": "x"}), 409)
    actions = {e["action"] for e in clerk.get(f"/api/v1/documents/{later['id']}/history").get_json()["items"]}
    assert "secrecy.declassify" in actions


def test_declassified_content_becomes_searchable_and_is_no_longer_watermarked(api, container) -> None:  # type: ignore[no-untyped-def]
    clerk, leader = api.as_user("vanthu"), api.as_user("chutich")
    doc = _classified(api, 4, days_left=30, subject="Báo cáo về phương án phòng thủ dân sự của xã")
    main = next(f for f in clerk.get(f"/api/v1/documents/{doc['id']}").get_json()["files"] if f["role"] == "main")
    container.indexing.drain_all()
    words = {"q": "phuong an phong thu dan su"}
    assert clerk.get("/api/v1/search", query_string=words).get_json()["total"] == 1  # the subject only, cleared clerk
    watermarked = clerk.get(f"/api/v1/documents/{doc['id']}/content").data
    assert hashlib.sha256(watermarked).hexdigest() != main["sha256"]
    assert_error(clerk.get(f"/api/v1/documents/{doc['id']}/link"), 409)

    leader.post(f"/api/v1/documents/{doc['id']}/secrecy/declassify", json={"reason": "Hết giá trị bí mật",
                                                                          "decision_ref": "14/QĐ-UBND"})
    container.indexing.drain_all()
    body_words = {"q": "xét đề nghị của Trưởng phòng Kinh tế", "size": 50}
    hits = clerk.get("/api/v1/search", query_string=body_words).get_json()["hits"]
    assert doc["id"] in [h["id"] for h in hits]  # its content is indexed now
    plain = clerk.get(f"/api/v1/documents/{doc['id']}/content").data
    assert hashlib.sha256(plain).hexdigest() == main["sha256"]  # the original, no watermark
    # Its content stays encrypted at rest: no presigned link, it streams through /content.
    assert "encrypted" in assert_error(clerk.get(f"/api/v1/documents/{doc['id']}/link"), 409)["message"]


def test_the_daily_sweep_declassifies_at_the_end_and_warns_ahead(api, container) -> None:  # type: ignore[no-untyped-def]
    leader = api.as_user("chutich")
    raise_clearance(api, "vanthu", "toi_mat")
    ending = _classified(api, 5, days_left=1, level="toi_mat", years=20)
    warned = _classified(api, 6, days_left=50)
    report = container.secrecy.sweep()
    assert report == {"declassified": 0, "notices": 4}  # both documents, to both leaders (cleared to Tối mật)
    assert container.secrecy.sweep()["notices"] == 0  # each notice once
    report = container.secrecy.sweep(today=vn_today() + timedelta(days=1))
    assert report["declassified"] == 1
    history = leader.get(f"/api/v1/documents/{ending['id']}/secrecy").get_json()
    assert history["secrecy"] == "none" and history["decisions"][0]["action"] == "auto_declassify"
    assert history["decisions"][0]["decided_by"] == "system"
    assert leader.get(f"/api/v1/documents/{warned['id']}/secrecy").get_json()["secrecy"] == "mat"
    kinds = [n["kind"] for n in leader.get("/api/v1/notifications").get_json()["items"]]
    assert "secrecy.review" in kinds
    assert_error(leader.post(f"/api/v1/documents/{ending['id']}/secrecy/extend",
                             json={"years": 5, "reason": "x", "decision_ref": "y"}), 409)
