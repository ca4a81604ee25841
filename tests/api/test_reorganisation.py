"""Reorganising agencies (issue 19): three communes merge into one new commune with documents in every
state; a crash in the middle resumes to the same result; mail addressed to a ceased commune reaches its
successor; registers of a ceased commune refuse new numbers; documents issued before stay valid after
the ceased commune's certificates are revoked."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from docsvc.domain.policies import SYSTEM
from tests.api.archive_support import (
    closed_dossier,
    file_into,
    issued_outgoing,
    open_dossier,
    transfer,
)
from tests.fixtures.pdfs import official_pdf
from tests.helpers import PIN, assert_error, created, me, signed_draft, upload
from tests.signing.pki import POPPLER_STALE_ERROR, _signer_certificates, _vfychain, pdfsig

DONGDANG, TANMY, BAOLAM, NEW = "000.00.31.H41", "000.00.32.H41", "000.00.33.H41", "000.00.40.H41"
DECISION = "Nghị quyết 1656/NQ-UBTVQH15"


def _org_id(container: Any, organ_id: str) -> int:
    return container.identity.find_organisation(organ_id).id


def _two_more_communes(container: Any) -> None:
    """Tân Mỹ and Bảo Lâm, each with a registry clerk (the demo has Đồng Đăng)."""
    from docsvc.services.demo import DEMO_PASSWORD
    province = _org_id(container, "000.00.00.H41")
    for organ_id, name, clerk in ((TANMY, "Ủy ban nhân dân xã Tân Mỹ", "tanmy.vanthu"),
                                  (BAOLAM, "Ủy ban nhân dân xã Bảo Lâm", "baolam.vanthu")):
        org = container.identity.add_organisation(SYSTEM, kind="commune", name=name, abbreviation="UBND",
                                                  organ_id=organ_id, parent_id=province)
        unit = container.identity.add_organisation(SYSTEM, kind="unit", name="Văn phòng", abbreviation="VP",
                                                   parent_id=org.id)
        container.identity.add_user(SYSTEM, username=clerk, password=DEMO_PASSWORD, full_name=f"Văn thư {name[-6:]}",
                                    agency_id=org.id, roles=["clerk"], clearance="mat", unit_ids=[unit.id])


def _incoming(api: Any, n: int, *, clerk: str = "vanthu", register: bool = True, **fields: Any) -> dict[str, Any]:
    c = api.as_user(clerk)
    subject = fields.pop("subject", f"Công văn số {n} về việc báo cáo công tác sáp nhập")
    default = official_pdf(subject) if not fields.get("secrecy") else False  # secret: metadata only
    content = fields.pop("file", default)
    doc = created(upload(c, number_notation=f"{n:02d}/QĐ-UBND", subject=subject, file=content, **fields))
    if register:
        r = c.post(f"/api/v1/documents/{doc['id']}/register", json={"confirm_duplicate": True})
        assert r.status_code == 200, r.get_json()
        doc = r.get_json()
    return doc


def _assign(api: Any, doc_id: int, user: str, days: int = 5) -> dict[str, Any]:
    r = api.as_user("chutich").post(f"/api/v1/documents/{doc_id}/assignments",
                                    json={"lead": {"user_id": me(api, user)["id"]}, "deadline_days": days,
                                          "instruction": "Xử lý theo quy định"})
    assert r.status_code in (200, 201), r.get_json()
    return r.get_json()


def _in_review(api: Any, subject: str, signer: str = "phochutich") -> dict[str, Any]:
    officer = api.as_user("chuyenvien")
    draft = created(upload(officer, direction="outgoing", type="QĐ", number_notation=None, issuing_body=None,
                           issuing_organ_id=None, issued_date=None, received_via=None, subject=subject,
                           file=official_pdf(subject)))
    r = officer.post(f"/api/v1/documents/{draft['id']}/submit", json={"signer_id": me(api, signer)["id"]})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _plan(container: Any, **extra: Any) -> dict[str, Any]:
    return {"kind": "merge", "effective_date": date.today().isoformat(), "decision": DECISION,
            "sources": [DONGDANG, TANMY, BAOLAM],
            "successors": [{"organ_id": NEW, "name": "Ủy ban nhân dân xã Đồng Đăng (mới)", "abbreviation": "UBND"}],
            "users": {"phochutich": {"leave": True, "replaced_by": "chutich"},
                      "truongphong": {"position": "Trưởng phòng Kinh tế xã Đồng Đăng (mới)"}}, **extra}


@pytest.fixture
def province(api: Any, container: Any) -> dict[str, Any]:
    """Three communes with documents in every state, dossiers open, closed and archived, a legal hold."""
    _two_more_communes(container)
    docs: dict[str, Any] = {}
    docs["received"] = _incoming(api, 1, register=False)
    docs["registered"] = _incoming(api, 2)
    docs["assigned"] = _incoming(api, 3)
    _assign(api, docs["assigned"]["id"], "chuyenvien")
    docs["overdue"] = _incoming(api, 4)
    _assign(api, docs["overdue"]["id"], "phochutich")  # the deputy leaves: his work goes to the chairman
    docs["secret"] = _incoming(api, 5, secrecy="mat")
    docs["tanmy_received"] = _incoming(api, 6, clerk="tanmy.vanthu", register=False)
    docs["in_review"] = _in_review(api, "Kế hoạch chuyển đổi số năm 2027")  # waits for the deputy to sign
    docs["signed"] = signed_draft(api, subject="Quyết định thành lập tổ công tác sáp nhập")
    docs["issued"] = issued_outgoing(api, "Quyết định ban hành quy chế làm việc")
    docs["completed"] = _incoming(api, 7)
    r = api.as_user("chutich").post(f"/api/v1/documents/{docs['completed']['id']}/complete", json={"note": "Lưu"})
    assert r.status_code == 200, r.get_json()
    # dossiers: one open, one closed, one archived (transferred) under a legal hold
    open_d = open_dossier(api, "01.RG")
    file_into(api, open_d["id"], docs["completed"]["id"])
    closed = closed_dossier(api, "02.RG", [docs["issued"]["id"]])
    archived = closed_dossier(api, "03.RG", [docs["completed"]["id"]], work_ended_on=date.today() - timedelta(days=400))
    transfer(api, archived["id"])
    hold = api.as_user("luutru").post("/api/v1/legal-holds", json={"reason": "Thanh tra", "dossier_id": archived["id"]})
    assert hold.status_code == 201, hold.get_json()
    # the overdue deadline has passed (time passes; the assignment keeps its deadline through the move)
    from docsvc.db.models import Assignment
    with container.db.write() as s:
        for a in s.execute(select(Assignment).where(Assignment.document_id == docs["overdue"]["id"])).scalars():
            a.deadline = date.today() - timedelta(days=3)
    return {"docs": docs, "dossiers": {"open": open_d["id"], "closed": closed["id"], "archived": archived["id"]}}


def _counts(container: Any) -> dict[str, int]:
    from docsvc.db.models import (
        Assignment,
        ChainDecision,
        Document,
        RegisterEntry,
        ReorgItem,
    )
    with container.db.read() as s:
        return {m.__tablename__: s.execute(select(func.count()).select_from(m)).scalar_one()
                for m in (Document, Assignment, ChainDecision, RegisterEntry, ReorgItem)}


def test_merge_three_communes_through_the_api(api: Any, container: Any, province: dict[str, Any]) -> None:
    docs = province["docs"]
    admin = api.as_user("tinh.quantri")
    # only the province's administrator plans; a bad plan is a 400 that names the field
    assert_error(api.as_user("quantri").post("/api/v1/reorganisations", json=_plan(container)), 403)
    assert_error(admin.post("/api/v1/reorganisations", json={**_plan(container), "kind": "fusion"}), 400)
    assert_error(admin.post("/api/v1/reorganisations", json={**_plan(container), "successors": [
        {"organ_id": NEW, "name": "A", "abbreviation": "UBND"}, {"organ_id": "000.00.41.H41"}]}), 400)
    bad = created(admin.post("/api/v1/reorganisations", json=_plan(container, users={"phochutich": {"leave": True}})))
    preview = admin.get(f"/api/v1/reorganisations/{bad['id']}/preview").get_json()
    assert any("phochutich" in p for p in preview["problems"])  # leaves with open work, nobody named
    assert_error(admin.post(f"/api/v1/reorganisations/{bad['id']}/run"), 409, "invalid_state")

    plan = created(admin.post("/api/v1/reorganisations", json=_plan(container)))
    preview = admin.get(f"/api/v1/reorganisations/{plan['id']}/preview").get_json()
    assert preview["problems"] == []
    assert {d["id"] for d in preview["incoming"]} == {docs[k]["id"] for k in (
        "received", "registered", "assigned", "overdue", "secret", "tanmy_received")}
    assert {d["id"]: d["action"] for d in preview["drafts"]} == {
        docs["in_review"]["id"]: "move", docs["signed"]["id"]: "back_to_draft_for_resigning"}
    assert "subject" not in str(preview["incoming"])  # the administrator is not a reader
    assert {u["username"] for u in preview["users"] if u["action"] == "leave"} == {"phochutich"}
    assert any(r["register"] == "incoming" and r["series"] == "normal" and r["last_number"] == 4
               for r in preview["registers"])
    assert any(k["reason"] == "cessationOfOperation" for k in preview["signing_keys"])
    assert [d["id"] for d in preview["dossiers"]] == [province["dossiers"]["open"]]  # the open one closes
    locks_before = _locks(container)

    r = admin.post(f"/api/v1/reorganisations/{plan['id']}/run")
    assert r.status_code == 202, r.get_json()
    status = admin.get(f"/api/v1/reorganisations/{plan['id']}").get_json()
    assert status["status"] == "done", status
    assert status["checks"]["before"]["sha256"] == status["checks"]["after"]["sha256"]
    assert status["checks"]["after"]["problems"] == []
    assert status["checks"]["before"]["counts"] == status["checks"]["after"]["counts"]
    _assert_merged(api, container, province)
    assert _locks(container) == locks_before  # write-once locks of the archived records unchanged
    # search: the successor's registry finds the ceased commune's issued record by the old name (its issuing
    # body), and the moved work among its own
    container.indexing.drain_all()
    clerk = api.as_user("vanthu")
    hits = clerk.get("/api/v1/search", query_string={"issuing_body": "Ủy ban nhân dân xã Đồng Đăng"}).get_json()
    assert docs["issued"]["id"] in {h["id"] for h in hits["hits"]}, hits
    hits = clerk.get("/api/v1/search", query_string={"q": "sáp nhập"}).get_json()
    assert docs["tanmy_received"]["id"] in {h["id"] for h in hits["hits"]}, hits
    # running it again does nothing more
    before = _counts(container)
    assert_error(admin.post(f"/api/v1/reorganisations/{plan['id']}/run"), 409)
    assert container.reorganisations.run(plan["id"])["status"] == "done"
    assert _counts(container) == before
    # the report
    pdf = admin.get(f"/api/v1/reorganisations/{plan['id']}/report.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    import io

    from pypdf import PdfReader
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert status["checks"]["after"]["sha256"][:20] in text.replace("\n", "")
    assert_error(api.as_user("quantri").get(f"/api/v1/reorganisations/{plan['id']}"), 404)


def _locks(container: Any) -> list[tuple[Any, ...]]:
    from docsvc.db.models import ObjectLock
    with container.db.read() as s:
        return [(x.object_key, x.applied_retain_until, x.applied_legal_hold, x.generation)
                for x in s.execute(select(ObjectLock).order_by(ObjectLock.object_key)).scalars()]


def _assert_merged(api: Any, container: Any, province: dict[str, Any]) -> None:
    from docsvc.db.models import (
        AgencySuccession,
        ArchiveFonds,
        Assignment,
        Document,
        Dossier,
        LegalHold,
        Organisation,
        SigningKey,
        User,
    )
    docs = province["docs"]
    new, dongdang = _org_id(container, NEW), _org_id(container, DONGDANG)
    with container.db.read() as s:
        for organ_id in (DONGDANG, TANMY, BAOLAM):
            org = s.execute(select(Organisation).where(Organisation.organ_id == organ_id)).scalar_one()
            assert (org.status, org.ceased_by) == ("merged", DECISION)
        assert s.execute(select(func.count()).select_from(AgencySuccession)
                         .where(AgencySuccession.successor_id == new)).scalar_one() == 3
        assert s.execute(select(ArchiveFonds).where(ArchiveFonds.origin_agency_id == dongdang)).scalar_one() \
            .keeper_agency_id == new
        # work in handling moved, with its deadlines; finished records keep their provenance
        for key in ("received", "registered", "assigned", "overdue", "secret", "tanmy_received", "in_review",
                    "signed"):
            assert s.get(Document, docs[key]["id"]).agency_id == new, key
        for key in ("issued", "completed"):
            assert s.get(Document, docs[key]["id"]).agency_id == dongdang, key
        overdue = s.execute(select(Assignment).where(Assignment.document_id == docs["overdue"]["id"])
                            .order_by(Assignment.id)).scalars().all()
        assert [a.status for a in overdue] == ["reassigned", "open"]
        assert overdue[1].user_id == me(api, "chutich")["id"] and overdue[1].deadline == overdue[0].deadline
        assert overdue[1].deadline < date.today()
        signed = s.get(Document, docs["signed"]["id"])
        assert signed.status == "draft" and "ceased" in signed.status_reason
        # users moved, the one who left is disabled (not deleted)
        deputy = s.execute(select(User).where(User.username == "phochutich")).scalar_one()
        assert not deputy.is_active
        assert s.execute(select(User).where(User.username == "tanmy.vanthu")).scalar_one().agency_id == new
        head = s.execute(select(User).where(User.username == "truongphong")).scalar_one()
        assert head.agency_id == new and head.position.endswith("(mới)")
        # archives untouched: same agency (provenance), same status, the hold still active
        archived = s.get(Dossier, province["dossiers"]["archived"])
        assert (archived.agency_id, archived.status) == (dongdang, "archived")
        # the open dossier closed at the effective date (audited), in the fonds like the closed one
        opened, closed = s.get(Dossier, province["dossiers"]["open"]), s.get(Dossier, province["dossiers"]["closed"])
        assert (opened.agency_id, opened.status, opened.work_ended_on, opened.doc_total) == (
            dongdang, "closed", date.today(), 1)
        assert (closed.agency_id, closed.status) == (dongdang, "closed")
        from docsvc.db.models import AuditEvent
        closes = s.execute(select(AuditEvent).where(AuditEvent.action == "dossier.close",
                                                    AuditEvent.object_id == str(opened.id))).scalars().all()
        assert len(closes) == 1 and closes[0].actor_name.startswith("reorganisation #"), closes
        assert DECISION in closes[0].details["reason"]
        assert s.execute(select(LegalHold).where(LegalHold.dossier_id == archived.id)).scalar_one().released_at is None
        # the old seal and the old titles' keys are revoked
        keys = s.execute(select(SigningKey).where(SigningKey.agency_id == dongdang)).scalars().all()
        assert keys and all(k.revoked_at is not None for k in keys)
    # the organisation list shows both: the ceased commune with its decision, and its successor
    listed = api.as_user("tinh.quantri").get("/api/v1/organisations", query_string={"per_page": 200}).get_json()
    orgs = {o["organ_id"]: o for o in listed["items"]}
    assert (orgs[DONGDANG]["status"], orgs[DONGDANG]["ceased_by"]) == ("merged", DECISION)
    assert orgs[NEW]["status"] == "active"
    # the registry of the successor registers the received document in its own, new series
    clerk = api.as_user("vanthu")
    api._tokens.clear()
    r = clerk.post(f"/api/v1/documents/{docs['received']['id']}/register", json={"confirm_duplicate": True})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["arrival_number"] == 1
    # the ceased commune's closed register stays printable by its successor, with its numbers; not by others
    book = clerk.get("/api/v1/registers/incoming", query_string={"agency_id": dongdang}).get_json()
    assert [r["arrival_number"] for r in book["rows"]] == [1, 2, 3, 4] and "Đồng Đăng" in book["agency"]
    assert clerk.get("/api/v1/registers/incoming/pdf", query_string={"agency_id": dongdang}).data.startswith(b"%PDF")
    assert_error(api.as_user("snv.vanthu").get("/api/v1/registers/incoming", query_string={"agency_id": dongdang}),
                 403)
    # the successor's registry, leaders and archivist read the ceased commune's records
    assert api.as_user("vanthu").get(f"/api/v1/documents/{docs['issued']['id']}").status_code == 200
    assert api.as_user("chutich").get(f"/api/v1/documents/{docs['completed']['id']}").status_code == 200
    # the deputy who left cannot log in
    r = api.client.post("/api/v1/auth/token", json={"username": "phochutich", "password": api.password})
    assert r.status_code in (401, 403, 423)
    # the ceased commune's registers are closed: a new number is refused with a clear error
    from docsvc.domain.documents import SeriesKey
    from docsvc.errors import InvalidState
    from docsvc.services.registers import allocate
    with pytest.raises(InvalidState, match="closed"), container.db.write() as s:
        allocate(s, SeriesKey(dongdang, "incoming", "normal", date.today().year), docs["received"]["id"], None)


def test_a_crash_in_the_middle_resumes_to_the_same_result(api: Any, container: Any, province: dict[str, Any],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from docsvc.services.reorganisation import runner
    real = runner.refresh_readers
    calls = {"n": 0}

    def crash_on_the_fourth(s: Any, doc: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("worker lost")
        return real(s, doc)

    monkeypatch.setattr(runner, "refresh_readers", crash_on_the_fourth)
    admin = api.as_user("tinh.quantri")
    plan = created(admin.post("/api/v1/reorganisations", json=_plan(container)))
    status = admin.post(f"/api/v1/reorganisations/{plan['id']}/run").get_json()
    assert status["status"] == "failed" and "worker lost" in status["last_error"]
    done_before = {p["step"]: p["done"] for p in status["progress"]}
    assert done_before["incoming"] == 3 and done_before["drafts"] == 0
    monkeypatch.setattr(runner, "refresh_readers", real)
    status = admin.post(f"/api/v1/reorganisations/{plan['id']}/run").get_json()
    assert status["status"] == "done", status
    assert status["checks"]["after"]["problems"] == []
    _assert_merged(api, container, province)
    from docsvc.db.models import Assignment, ReorgItem
    with container.db.read() as s:
        keys = s.execute(select(ReorgItem.step, ReorgItem.item_key).where(ReorgItem.plan_id == plan["id"])).all()
        assert len(keys) == len(set(keys))
        # the deputy's assignment was handed over once, not once per run
        assert s.execute(select(func.count()).select_from(Assignment).where(
            Assignment.document_id == province["docs"]["overdue"]["id"])).scalar_one() == 2


def test_mail_to_a_ceased_commune_reaches_its_successor_and_the_sender_is_told(api: Any, container: Any) -> None:
    _two_more_communes(container)
    admin = api.as_user("tinh.quantri")
    plan = created(admin.post("/api/v1/reorganisations", json=_plan(container, users={})))
    assert admin.post(f"/api/v1/reorganisations/{plan['id']}/run").get_json()["status"] == "done"
    # the department sends a document to Tân Mỹ, which has ceased
    officer, director, clerk = api.as_user("snv.chuyenvien"), api.as_user("snv.giamdoc"), api.as_user("snv.vanthu")
    subject = "Công văn hướng dẫn kiện toàn tổ chức bộ máy"
    draft = created(upload(officer, direction="outgoing", type="QĐ", number_notation=None, issuing_body=None,
                           issuing_organ_id=None, issued_date=None, received_via=None, subject=subject,
                           file=official_pdf(subject)))
    assert officer.post(f"/api/v1/documents/{draft['id']}/submit",
                        json={"signer_id": me(api, "snv.giamdoc")["id"]}).status_code == 200
    if director.get("/api/v1/me/signing-key").status_code != 200:
        assert director.post("/api/v1/me/signing-key", json={"pin": PIN}).status_code == 201
    r = director.post(f"/api/v1/documents/{draft['id']}/sign", json={"pin": PIN})
    assert r.status_code == 200, r.get_json()
    tanmy, new = _org_id(container, TANMY), _org_id(container, NEW)
    r = clerk.post(f"/api/v1/documents/{draft['id']}/issue", json={"recipients": [{"agency_id": tanmy}]})
    assert r.status_code == 200, r.get_json()
    from docsvc.db.models import Document, Notification, Recipient
    with container.db.read() as s:
        rec = s.execute(select(Recipient).where(Recipient.document_id == draft["id"])).scalar_one()
        copy = s.get(Document, rec.incoming_document_id)
        assert copy.agency_id == new and rec.agency_id == tanmy
        assert "kế thừa" in rec.note and NEW in copy.description
        told = s.execute(select(Notification).where(Notification.user_id == me(api, "snv.vanthu")["id"],
                                                    Notification.kind == "outgoing.redirected")).scalars().all()
        assert told and "kế thừa" in told[0].message
    # the successor's registry (Tân Mỹ's clerk moved there) sees it arrive
    inbox = api.as_user("tanmy.vanthu").get("/api/v1/inbox").get_json()["items"]
    assert any(i["document"]["id"] == copy.id for i in inbox)


def test_documents_issued_before_stay_valid_after_the_revocation(api: Any, container: Any) -> None:
    """The chairman's key and the commune's seal are revoked (affiliationChanged, cessationOfOperation);
    the document issued before validates with docsvc, pdfsig and stock pyHanko."""
    issued = issued_outgoing(api, "Quyết định ban hành trước khi sáp nhập")
    _two_more_communes(container)
    admin = api.as_user("tinh.quantri")
    plan = created(admin.post("/api/v1/reorganisations", json=_plan(container, users={})))
    assert admin.post(f"/api/v1/reorganisations/{plan['id']}/run").get_json()["status"] == "done"
    from docsvc.db.models import Document, SigningKey
    with container.db.read() as s:
        doc = s.get(Document, issued["id"])
        data = container.files.read_bytes(next(f for f in doc.files if f.role == "issued").object_key)
        keys = s.execute(select(SigningKey).where(SigningKey.cert_serial.is_not(None))).scalars().all()
        revoked = {k.cert_serial for k in keys if k.revoked_at is not None}
        revoked_at = max(k.revoked_at for k in keys if k.revoked_at is not None)
    reasons = {container.signatures.ca.get(int(serial, 16)).revocation_reason for serial in revoked}
    assert reasons >= {"cessationOfOperation", "affiliationChanged"}, reasons
    # docsvc: the signing time is proven by the signature time-stamps and the validation data embedded at
    # issue (B-LT); the revocation came after it, so the signatures pass, with that fact as a warning
    report = container.signatures.validate(data)
    assert report["verdict"] in ("valid", "valid_with_warnings"), report
    assert [s["ades_indication"] for s in report["signatures"]] == ["PASSED", "PASSED"], report
    for s in report["signatures"]:  # a validator holding a fresh response from issue time may not fetch again
        assert s["pades_level"] in ("B-LT", "B-LTA"), s
        if s["revocation"]["status"] == "revoked":
            assert s["warnings"] and all("after the proven signing time" in w for w in s["warnings"]), s
    # stock pyHanko, long-term validation (PAdES B-LT: at the time the signature time-stamp proves, with the
    # validation data embedded at issue), only our root trusted; no docsvc code involved
    assert _stock_pyhanko_ltv(data, container.signatures.ca) == 2
    # poppler's pdfsig (22.12) judges certificates only as of now, without the DSS or the time-stamps (it has no
    # option for either; README, "pdfsig after a revocation"): both signatures are cryptographically valid and
    # their certificates revoked today. Its second certificate verdict in one run can be NSS's stale error
    # (POPPLER_STALE_ERROR, see tests.signing.pki): NSS's own vfychain, on the same database, says why
    # The revocation takes effect at a whole second (OCSP and CRLs carry seconds), rounded up: judged "as of
    # now" within that second, the certificates are still good. Wait until it is in effect.
    in_effect = (revoked_at if revoked_at.tzinfo else revoked_at.replace(tzinfo=UTC)) + timedelta(milliseconds=50)
    time.sleep(max(0.0, (in_effect - datetime.now(UTC)).total_seconds()))
    signatures = [sig for sig in pdfsig(data, container.signatures.ca) if sig.signature_type == "ETSI.CAdES.detached"]
    assert len(signatures) == 2 and all(sig.signature_validation == "Signature is Valid." for sig in signatures), \
        signatures
    assert signatures[0].certificate_validation == "Certificate has been Revoked.", signatures
    assert signatures[1].certificate_validation in ("Certificate has been Revoked.", POPPLER_STALE_ERROR), signatures
    for sig in signatures:
        verdict = _vfychain(_signer_certificates(data)[sig.field_name], container.signatures.ca)
        assert "Chain is good!" not in verdict and "revoked" in verdict.lower(), verdict


def _stock_pyhanko_ltv(pdf: bytes, ca: Any) -> int:
    """Stock pyHanko, point-in-time: each signature validated at the time its signature time-stamp proves,
    with only the validation data embedded in the document (its DSS; no fetching), only our root trusted."""
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    from signing.x509util import to_asn1_cert
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    roots = [to_asn1_cert(ca.root_certificate)]
    dss = DocumentSecurityStore.read_dss(reader)
    checked = 0
    for sig in reader.embedded_signatures:
        if sig.sig_object_type == "/DocTimeStamp":
            continue
        first = validate_pdf_signature(sig, signer_validation_context=dss.as_validation_context(
            {"trust_roots": roots, "allow_fetching": False}))
        proven = first.timestamp_validity
        assert proven is not None and proven.valid and proven.trusted, sig.field_name
        vc = dss.as_validation_context({"trust_roots": roots, "allow_fetching": False, "moment": proven.timestamp})
        status = validate_pdf_signature(sig, signer_validation_context=vc)
        assert status.intact and status.valid and status.trusted and status.bottom_line, \
            (sig.field_name, status.pretty_print_details())
        checked += 1
    return checked


def test_split_one_commune_into_two_by_unit_mapping(api: Any, container: Any) -> None:
    """Đồng Đăng splits: the Economy unit (and its people and work) goes to Đồng Đăng B; the rest to A."""
    from docsvc.db.models import Document, Organisation, User
    dongdang = _org_id(container, DONGDANG)
    with container.db.read() as s:
        units = {o.abbreviation: o.id for o in s.execute(select(Organisation).where(
            Organisation.parent_id == dongdang)).scalars()}
    received = _incoming(api, 11, register=False)
    assigned = _incoming(api, 12)
    _assign(api, assigned["id"], "chuyenvien")
    draft = _in_review(api, "Kế hoạch phát triển kinh tế", signer="chutich")
    a, b = "000.00.41.H41", "000.00.42.H41"
    admin = api.as_user("tinh.quantri")
    plan = created(admin.post("/api/v1/reorganisations", json={
        "kind": "split", "effective_date": date.today().isoformat(), "decision": DECISION, "sources": [DONGDANG],
        "successors": [{"organ_id": a, "name": "Ủy ban nhân dân xã Đồng Đăng A", "abbreviation": "UBND"},
                       {"organ_id": b, "name": "Ủy ban nhân dân xã Đồng Đăng B", "abbreviation": "UBND"}],
        "units": {str(units["PKT"]): {"agency": b}}}))
    preview = admin.get(f"/api/v1/reorganisations/{plan['id']}/preview").get_json()
    assert {u["id"]: u["to_agency"] for u in preview["units"]}[units["PKT"]] == b
    status = admin.post(f"/api/v1/reorganisations/{plan['id']}/run").get_json()
    assert status["status"] == "done" and status["checks"]["after"]["problems"] == [], status
    ida, idb = _org_id(container, a), _org_id(container, b)
    with container.db.read() as s:
        assert s.get(Organisation, dongdang).status == "split"
        assert s.get(Organisation, units["PKT"]).parent_id == idb
        assert s.get(Organisation, units["VP"]).parent_id == ida
        agency = {u.username: u.agency_id for u in s.execute(select(User)).scalars()}
        assert agency["chuyenvien"] == agency["truongphong"] == idb
        assert agency["vanthu"] == agency["chutich"] == ida
        assert s.get(Document, received["id"]).agency_id == ida  # nothing decides: the primary successor
        assert s.get(Document, assigned["id"]).agency_id == idb  # its lead handler's unit went to B
        assert s.get(Document, draft["id"]).agency_id == idb  # drafted in the Economy unit
    # mail to the split commune goes to the primary successor
    from docsvc.services.reorganisation.succession import redirect_of
    with container.db.read() as s:
        assert redirect_of(s, dongdang).successor_id == ida


def test_rename_through_the_command_line(api: Any, container: Any, settings: Any, tmp_path: Any) -> None:
    """``docsvc reorg plan|preview|run|status``: Đồng Đăng is renamed (new name and OrganId; the old kept)."""
    import json

    from docsvc.db.models import Organisation
    from tests.api.test_cli import run
    doc = _incoming(api, 21)
    spec = {"kind": "rename", "effective_date": date.today().isoformat(), "decision": DECISION,
            "sources": [DONGDANG],
            "successors": [{"organ_id": "000.00.43.H41", "name": "Ủy ban nhân dân phường Đồng Đăng",
                            "abbreviation": "UBND"}]}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    from tests.helpers import settings_env
    env = settings_env(settings)
    r = run(["reorg", "plan", str(path)], env, Path(settings.data_dir))
    assert r.returncode == 0, r.stderr
    plan_id = int(r.stdout.split()[1])
    r = run(["reorg", "preview", str(plan_id)], env, Path(settings.data_dir))
    assert r.returncode == 0 and json.loads(r.stdout)["problems"] == [], r.stdout + r.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    r = run(["reorg", "plan", str(bad)], env, Path(settings.data_dir))
    assert r.returncode != 0 and "not a JSON plan" in r.stderr
    r = run(["reorg", "run", str(plan_id)], env, Path(settings.data_dir))
    assert r.returncode == 0 and f"plan {plan_id}: done" in r.stdout, r.stdout + r.stderr
    status = json.loads(run(["reorg", "status", str(plan_id)], env, Path(settings.data_dir)).stdout)
    assert status["status"] == "done" and status["checks"]["after"]["problems"] == []
    new = _org_id(container, "000.00.43.H41")
    with container.db.read() as s:
        old = s.execute(select(Organisation).where(Organisation.organ_id == DONGDANG)).scalar_one()
        assert old.status == "renamed" and old.name == "Ủy ban nhân dân xã Đồng Đăng"  # history shows both names
        from docsvc.db.models import Document
        assert s.get(Document, doc["id"]).agency_id == new


def test_certificates_issued_in_bulk_from_a_csv_and_enrolled_with_the_owners_pin(api: Any, container: Any) -> None:
    """After the merge the successor's leaders get certificates under their new titles in one batch; each
    enrols with a PIN of his own and signs with the bulk-issued key."""
    from docsvc.db.models import SigningKey, User
    _two_more_communes(container)
    admin = api.as_user("tinh.quantri")
    plan = created(admin.post("/api/v1/reorganisations", json=_plan(container, users={})))
    assert admin.post(f"/api/v1/reorganisations/{plan['id']}/run").get_json()["status"] == "done"
    with container.db.write() as s:
        for username in ("chutich", "truongphong"):
            s.execute(select(User).where(User.username == username)).scalar_one().email = f"{username}@dongdang.gov.vn"
    good = ("name,title,unit,email\n"
            "Hoàng Văn Nam,Chủ tịch UBND xã Đồng Đăng (mới),,chutich@dongdang.gov.vn\n"
            "Lê Thị Hoa,Trưởng phòng Kinh tế,PKT,truongphong@dongdang.gov.vn\n")
    bad = good + "Ai đó,Chuyên viên,,nobody@dongdang.gov.vn\n,x,,y\n"
    err = assert_error(admin.post("/api/v1/reorganisations/certificates", json={"agency": NEW, "csv": bad}), 400)
    assert [p["line"] for p in err["details"]["lines"]] == [5]  # a missing name is caught first, per line
    err = assert_error(admin.post("/api/v1/reorganisations/certificates", json={
        "agency": NEW, "csv": good + "Ai đó,Chuyên viên,,nobody@dongdang.gov.vn\n"}), 400)
    assert [p["line"] for p in err["details"]["lines"]] == [4]
    assert_error(api.as_user("quantri").post("/api/v1/reorganisations/certificates",
                                             json={"agency": "000.00.02.H41", "csv": good}), 403)
    r = admin.post("/api/v1/reorganisations/certificates", json={"agency": NEW, "csv": good})
    assert r.status_code == 202, r.get_json()
    batch = admin.get(f"/api/v1/reorganisations/certificates/{r.get_json()['id']}").get_json()
    assert (batch["status"], batch["done"], batch["total"]) == ("done", 2, 2)
    # the chairman enrols with his own PIN: the bulk-issued key and certificate, now under his PIN
    leader = api.as_user("chutich")
    assert leader.post("/api/v1/me/signing-key", json={"pin": PIN}).status_code == 201
    subject = leader.get("/api/v1/me/signing-key").get_json()["subject"]
    assert "Chủ tịch UBND xã Đồng Đăng (mới)" in subject and "(mới)" in subject
    assert not container.signatures.pending_key_path(me(api, "chutich")["id"]).exists()
    with container.db.read() as s:
        key = s.execute(select(SigningKey).where(SigningKey.user_id == me(api, "chutich")["id"],
                                                 SigningKey.revoked_at.is_(None))).scalar_one()
    from docsvc.db.models import AuditEvent, CertBatchItem
    with container.db.read() as s:
        serials = set(s.execute(select(CertBatchItem.cert_serial)).scalars())
        assert key.cert_serial in serials
        # one audit event per certificate, naming its holder and serial (written a chunk at a time)
        events = s.execute(select(AuditEvent).where(AuditEvent.action == "certificate.issued")).scalars().all()
        assert {e.details["serial"] for e in events} == serials and len(events) == 2
        assert {e.object_id for e in events} == {str(me(api, u)["id"]) for u in ("chutich", "truongphong")}
    from docsvc.services import audit
    with container.db.read() as s:  # the events appended in bulk keep the chain whole
        assert audit.verify(s, container.audit_keys).ok
    # and signs with it
    doc = signed_draft(api, subject="Quyết định đầu tiên của xã mới")
    assert doc["status"] == "signed"


def _neutral_pdf(subject: str) -> bytes:
    """A document from the province whose text names no commune."""
    return official_pdf(subject, agency="ỦY BAN NHÂN DÂN TỈNH LẠNG SƠN", date_line="Lạng Sơn, ngày 20 tháng 11")


def _neutral_record(api: Any, n: int, subject: str) -> dict[str, Any]:
    """A completed incoming record of Đồng Đăng whose subject, file and metadata never name Đồng Đăng (sent
    by the province): only its provenance can tie it to the commune once the commune ceased."""
    doc = _incoming(api, n, subject=subject, file=_neutral_pdf(subject))
    r = api.as_user("chutich").post(f"/api/v1/documents/{doc['id']}/complete", json={"note": "Lưu"})
    assert r.status_code == 200, r.get_json()
    return doc


def test_search_finds_a_ceased_communes_records_by_its_former_name_and_by_its_successor(
        api: Any, container: Any) -> None:
    _two_more_communes(container)
    record = _neutral_record(api, 31, "Quyết định phê duyệt danh mục đầu tư công trung hạn")
    moved = _incoming(api, 32, subject="Công văn đề nghị rà soát hộ nghèo", register=False)
    subject = "Công văn đề nghị hỗ trợ kinh phí khắc phục thiên tai"  # received by Tân Mỹ, in handling: it moves
    tanmy = _incoming(api, 33, clerk="tanmy.vanthu", register=False, subject=subject, file=_neutral_pdf(subject))
    admin = api.as_user("tinh.quantri")
    plan = created(admin.post("/api/v1/reorganisations", json=_plan(container, users={})))
    assert admin.post(f"/api/v1/reorganisations/{plan['id']}/run").get_json()["status"] == "done"
    container.indexing.drain_all()
    clerk = api.as_user("vanthu")  # the successor's registry (Đồng Đăng's clerk moved there)

    def ids(**params: Any) -> set[int]:
        r = clerk.get("/api/v1/search", query_string=params)
        assert r.status_code == 200, r.get_json()
        return {h["id"] for h in r.get_json()["hits"]}
    # by the former name, with or without accents, and by its former OrganId: the record it left in the fonds
    assert record["id"] in ids(q="Ủy ban nhân dân xã Đồng Đăng")
    assert record["id"] in ids(q="xa dong dang")
    assert record["id"] in ids(q=DONGDANG)
    assert record["id"] not in ids(q="xã Tân Mỹ")  # the provenance is its own commune's, not any merged one
    # a document in handling moved to the successor is found by the name of the commune it came from
    assert tanmy["id"] in ids(q="xa Tan My") and tanmy["id"] in ids(q=TANMY)
    assert tanmy["id"] not in ids(q="xa dong dang")
    # filtered by the successor: its own work (moved there) and the fonds it took over; by the ceased commune:
    # what stayed in its fonds
    assert {record["id"], moved["id"]} <= ids(agency=NEW, size=100)
    held_by_old = ids(agency=DONGDANG, size=100)
    assert record["id"] in held_by_old and moved["id"] not in held_by_old
    assert record["id"] not in ids(agency="000.00.00.H41", size=100)  # the province holds none of it
    assert_error(clerk.get("/api/v1/search", query_string={"agency": "999.99.99.Z99"}), 400)
    # the department's registry, which may not read the commune's records, finds nothing by the old name
    assert record["id"] not in {h["id"] for h in api.as_user("snv.vanthu").get(
        "/api/v1/search", query_string={"q": "xa dong dang"}).get_json()["hits"]}


def test_an_edxml_package_to_a_ceased_commune_reaches_its_successor_and_the_sender_is_told(
        backend: str, tmp_path: Path, pki: Any, request: pytest.FixtureRequest) -> None:
    """Deployment B's department sends an edXML package to commune X of deployment A after X merged into a new
    commune: A imports it into the successor with a note, and its acknowledgement (01, from the successor,
    saying why) and later statuses are applied to B's recipient."""
    from docsvc.db.models import Document, ExchangeInbound, Notification
    from tests.api.exchange_support import random_organ_id, two_deployments
    commune = random_organ_id("H41")
    with two_deployments(backend, tmp_path, pki, request, a_commune=commune, exchange_folder=str(tmp_path / "x"),
                         exchange_default_transport="folder") as (a, b):
        plan = created(a.api.as_user("tinh.quantri").post("/api/v1/reorganisations", json={
            "kind": "merge", "effective_date": date.today().isoformat(), "decision": DECISION, "sources": [commune],
            "successors": [{"organ_id": NEW, "name": "Ủy ban nhân dân xã Đồng Đăng (mới)", "abbreviation": "UBND"}]}))
        # in this process the background task runs in B's container: A runs its job in the foreground
        assert a.container.reorganisations.start(SYSTEM, plan["id"], background=False)["status"] == "done"
        # B's department issues a decision to X, which B does not know has ceased
        assert b.api.as_user("snv.giamdoc").post("/api/v1/me/signing-key", json={"pin": PIN}).status_code == 201
        draft = _signed_at(b, "Quyết định giao chỉ tiêu biên chế năm 2027")
        r = b.api.as_user("snv.vanthu").post(f"/api/v1/documents/{draft['id']}/issue", json={
            "recipients": [{"name": "Ủy ban nhân dân xã Đồng Đăng", "organ_id": commune}]})
        assert r.status_code == 200, r.get_json()
        assert b.exchange.send_pending().sent == 1
        assert a.exchange.receive() == 1
        new = a.container.identity.find_organisation(NEW).id
        with a.container.db.read() as s:
            inbound = s.execute(select(ExchangeInbound).where(ExchangeInbound.kind == "package")).scalar_one()
            copy = s.get(Document, inbound.document_id)
            assert (inbound.to_organ_id, copy.agency_id) == (commune, new)  # addressed to X, kept by the successor
            assert f"({commune})" in copy.description and "kế thừa" in copy.description and NEW in copy.description
        # the successor's registry (X's clerk moved there) sees it arrive
        assert any(i["document"]["id"] == copy.id for i in a.api.as_user("vanthu").get("/api/v1/inbox")
                   .get_json()["items"])
        # the sender is told: the acknowledgement comes from the successor and says why
        assert a.exchange.send_pending().sent == 1
        assert b.exchange.receive() == 1
        recipient = b.api.as_user("snv.vanthu").get(f"/api/v1/documents/{draft['id']}/recipients").get_json()[
            "items"][0]
        assert recipient["status_code"] == "01" and "kế thừa" in recipient["note"] and NEW in recipient["note"]
        with b.container.db.read() as s:
            told = s.execute(select(Notification).where(Notification.user_id == me(b.api, "snv.vanthu")["id"],
                                                        Notification.kind == "outgoing.redirected")).scalars().all()
            assert told and commune in told[0].message
        # the successor registers it: B follows its progress (03) although it sent to X
        assert a.api.as_user("vanthu").post(f"/api/v1/documents/{copy.id}/register", json={}).status_code == 200
        assert a.exchange.send_pending().sent == 1
        assert b.exchange.receive() == 1
        recipient = b.api.as_user("snv.vanthu").get(f"/api/v1/documents/{draft['id']}/recipients").get_json()[
            "items"][0]
        assert [st["code"] for st in recipient["exchange"]["statuses"]] == ["01", "03"]
        assert b.api.as_user("snv.vanthu").get("/api/v1/exchange/rejected").get_json()["items"] == []
        # B replaces its decision, still addressed to X: the replacement (its own DocumentId) reaches the
        # successor, and the successor's answer moves B's recipient of the replacement
        replacement = _signed_at(b, "Quyết định thay thế Quyết định giao chỉ tiêu biên chế năm 2027")
        assert b.api.as_user("snv.vanthu").post(f"/api/v1/documents/{replacement['id']}/issue", json={
            "recipients": [{"name": "Lưu: VT"}]}).status_code == 200
        assert b.api.as_user("snv.vanthu").post(f"/api/v1/documents/{draft['id']}/exchange-replace", json={
            "replacement_id": replacement["id"], "reason": "Sai chỉ tiêu"}).status_code == 200
        assert b.exchange.send_pending().sent == 1
        assert a.exchange.receive() == 1
        assert a.exchange.send_pending().sent == 1
        assert b.exchange.receive() == 1
        outside = [i for i in b.api.as_user("snv.vanthu").get(f"/api/v1/documents/{replacement['id']}/recipients")
                   .get_json()["items"] if i.get("organ_id") == commune]
        assert [i["status_code"] for i in outside] == ["01"] and NEW in outside[0]["note"]
        assert b.api.as_user("snv.vanthu").get("/api/v1/exchange/rejected").get_json()["items"] == []


def _signed_at(deployment: Any, subject: str) -> dict[str, Any]:
    """A decision drafted by B's officer and signed by its director (whose key exists), ready to issue."""
    officer = deployment.api.as_user("snv.chuyenvien")
    draft = created(upload(officer, direction="outgoing", type="QĐ", number_notation=None, issuing_body=None,
                           issuing_organ_id=None, issued_date=None, received_via=None, subject=subject,
                           file=official_pdf(subject)))
    assert officer.post(f"/api/v1/documents/{draft['id']}/submit",
                        json={"signer_id": me(deployment.api, "snv.giamdoc")["id"]}).status_code == 200
    assert deployment.api.as_user("snv.giamdoc").post(f"/api/v1/documents/{draft['id']}/sign",
                                                      json={"pin": PIN}).status_code == 200
    return draft
