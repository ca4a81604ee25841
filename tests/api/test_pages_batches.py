"""Pages of volume work: receive many → review grid (prefilled, low confidence marked, problems) →
register the ticked rows; assign many from my work; sign many from the signing queue."""

from __future__ import annotations

import io
import random
import re

from tests.fixtures.intake_docs import born_digital
from tests.helpers import PIN, created, me, page_text, signed_draft, upload


def _pdfs(n: int) -> list[tuple[bytes, dict]]:
    rng, out = random.Random(3), []
    while len(out) < n:
        data, truth = born_digital(rng, len(out))
        if truth["secrecy"] == 0:
            out.append((data, truth))
    return out


def _batch_id(location: str) -> int:
    found = re.search(r"/batches/(\d+)", location)
    assert found, location
    return int(found.group(1))


def test_receive_many_review_and_register_on_the_pages(pages, container) -> None:  # type: ignore[no-untyped-def]
    clerk = pages("vanthu")
    form = clerk.get("/incoming/batch")
    assert form.status_code == 200 and "webkitdirectory" in form.get_data(as_text=True)
    docs = _pdfs(2)
    r = clerk.post("/incoming/batch", {"files": [(io.BytesIO(d), f"{i}.pdf") for i, (d, _) in enumerate(docs)]},
                   content_type="multipart/form-data")
    assert r.status_code == 303, page_text(r)
    batch_id = _batch_id(r.headers["Location"])
    running = clerk.get(f"/batches/{batch_id}").get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in running  # the page polls while the files are read
    container.run_batches()
    container.batches.wait(batch_id)
    page = clerk.get(f"/batches/{batch_id}")
    html = page.get_data(as_text=True)
    assert 'hx-trigger' not in html and 'data-state="done"' in html
    items = [int(i) for i in re.findall(r'name="pick" value="(\d+)"', html)]
    assert len(items) == 2
    for item, (_, truth) in zip(items, docs, strict=True):
        assert f'name="number_notation-{item}" value="{truth["number_notation"]}"' in html
        assert truth["subject"] in html
    data = {"pick": [str(i) for i in items]}
    for name in ("number_notation", "issued_date", "issuing_body", "type", "subject", "urgency", "secrecy",
                 "signer_name", "signer_position"):
        for item in items:
            found = re.search(rf'name="{name}-{item}"[^>]*value="([^"]*)"', html)
            if found:
                data[f"{name}-{item}"] = found.group(1)
    for item, (_, truth) in zip(items, docs, strict=True):
        data[f"type-{item}"] = truth["type"]
        data[f"subject-{item}"] = truth["subject"]
        data[f"urgency-{item}"] = "normal"
        data[f"secrecy-{item}"] = "none"
    r = clerk.post(f"/batches/{batch_id}/register", data)
    assert r.status_code == 303, page_text(r)
    register_id = _batch_id(r.headers["Location"])
    container.run_batches()
    container.batches.wait(register_id)
    done = clerk.get(f"/batches/{register_id}").get_data(as_text=True)
    assert done.count('data-state="done"') == 3  # the batch and its two rows
    review = page_text(clerk.get(f"/batches/{batch_id}"))
    assert "Đã vào sổ với số đến" in review or "Registered with incoming number" in review


def test_assign_many_from_my_work_and_sign_many_from_the_queue(pages, api, container) -> None:  # type: ignore[no-untyped-def]
    clerk = api.as_user("vanthu")
    ids = []
    for i in range(2):
        d = created(upload(clerk, number_notation=f"{40 + i}/QĐ-UBND"))
        clerk.post(f"/api/v1/documents/{d['id']}/register", json={})
        ids.append(d["id"])
    leader = pages("chutich")
    work = leader.get("/work").get_data(as_text=True)
    assert 'data-form="assign-many"' in work and f'name="documents" value="{ids[0]}"' in work
    officer = me(api, "chuyenvien")["id"]
    assert f'name="instruction-{ids[0]}"' in work and f'name="deadline_days-{ids[1]}"' in work
    # the first row has its own instruction and deadline; the second takes the shared ones
    r = leader.post("/batches/assign", {"documents": [str(i) for i in ids], "lead": f"user:{officer}",
                                        "deadline_days": "3", "instruction": "Giải quyết",
                                        f"instruction-{ids[0]}": "Trả lời trước ngày 15",
                                        f"deadline_days-{ids[0]}": "7",
                                        f"instruction-{ids[1]}": "", f"deadline_days-{ids[1]}": ""})
    assert r.status_code == 303, page_text(r)
    batch = _batch_id(r.headers["Location"])
    container.run_batches()
    container.batches.wait(batch)
    assert leader.get(f"/batches/{batch}").get_data(as_text=True).count('data-state="done"') == 3
    given = [api.as_user("chutich").get(f"/api/v1/documents/{i}/handling").get_json()["assignments"][0]
             for i in ids]
    assert [a["instruction"] for a in given] == ["Trả lời trước ngày 15", "Giải quyết"]
    assert given[0]["deadline"] > given[1]["deadline"]  # 7 working days against 3

    signed_draft(api)  # enrols the leader's key
    officer_api, head = api.as_user("chuyenvien"), api.as_user("truongphong")
    from tests.fixtures.pdfs import official_pdf
    draft = created(upload(officer_api, direction="outgoing", type="QĐ", number_notation=None, issuing_body=None,
                           issuing_organ_id=None, issued_date=None, received_via=None, subject="Quyết định ký lô",
                           file=official_pdf("Quyết định ký lô")))
    officer_api.post(f"/api/v1/documents/{draft['id']}/submit", json={"signer_id": me(api, "chutich")["id"]})
    head.post(f"/api/v1/documents/{draft['id']}/approve", json={})
    queue = leader.get("/outgoing/queue/sign").get_data(as_text=True)
    assert 'data-form="sign-many"' in queue and 'name="pin"' in queue
    r = leader.post("/batches/sign", {"documents": [str(draft["id"])], "pin": PIN})
    assert r.status_code == 303, page_text(r)
    batch = _batch_id(r.headers["Location"])
    container.batches.wait(batch)
    assert leader.get(f"/batches/{batch}").get_data(as_text=True).count('data-state="done"') == 2
