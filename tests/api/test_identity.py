"""Organisations and users through the API: admin-only management, validation, hierarchy rules."""

from __future__ import annotations

from tests.helpers import assert_error


def test_admin_creates_unit_and_user(api) -> None:  # type: ignore[no-untyped-def]
    admin = api.as_user("quantri")
    me = admin.get("/api/v1/me").get_json()
    r = admin.post("/api/v1/organisations", json={"kind": "unit", "name": "Phòng Tư pháp", "abbreviation": "TP",
                                                  "parent_id": me["agency_id"]})
    assert r.status_code == 201, r.get_json()
    unit = r.get_json()
    assert unit["agency_id"] == me["agency_id"] and unit["organ_id"] is None
    r = admin.post("/api/v1/users", json={
        "username": "tuphap", "password": "Tu-phap-2026!", "full_name": "Trịnh Văn Tú",
        "agency_id": me["agency_id"], "roles": ["officer"], "clearance": "mat", "unit_ids": [unit["id"]]})
    assert r.status_code == 201, r.get_json()
    user = r.get_json()
    assert user["roles"] == ["officer"] and user["unit_ids"] == [unit["id"]] and user["clearance"] == "mat"
    assert api.client.post("/api/v1/auth/token", json={"username": "tuphap", "password": "Tu-phap-2026!"}
                           ).status_code == 201


def test_non_admin_cannot_manage(api) -> None:  # type: ignore[no-untyped-def]
    clerk = api.as_user("vanthu")
    agency = clerk.get("/api/v1/me").get_json()["agency_id"]
    assert_error(clerk.post("/api/v1/organisations", json={"kind": "unit", "name": "X", "abbreviation": "X",
                                                           "parent_id": agency}), 403, "forbidden")
    assert_error(clerk.post("/api/v1/users", json={
        "username": "hacker", "password": "Password-2026", "full_name": "H", "agency_id": agency,
        "roles": ["admin"]}), 403)


def test_admin_only_over_own_agency(api) -> None:  # type: ignore[no-untyped-def]
    commune_admin = api.as_user("quantri")
    orgs = commune_admin.get("/api/v1/organisations", query_string={"per_page": 200}).get_json()["items"]
    snv = next(o for o in orgs if o["abbreviation"] == "SNV")
    assert_error(commune_admin.post("/api/v1/users", json={
        "username": "intruder", "password": "Password-2026", "full_name": "I", "agency_id": snv["id"],
        "roles": ["clerk"]}), 403)
    # The province's admin manages every agency below the province.
    province_admin = api.as_user("tinh.quantri")
    r = province_admin.post("/api/v1/users", json={
        "username": "snv.moi", "password": "Password-2026", "full_name": "Người mới", "agency_id": snv["id"],
        "roles": ["clerk"]})
    assert r.status_code == 201, r.get_json()


def test_validation_errors(api) -> None:  # type: ignore[no-untyped-def]
    admin = api.as_user("tinh.quantri")
    province = admin.get("/api/v1/me").get_json()["agency_id"]
    err = assert_error(admin.post("/api/v1/organisations", json={
        "kind": "commune", "name": "Xã Mới", "abbreviation": "UBND", "organ_id": "123", "parent_id": province}), 400)
    assert "13 characters" in err["message"]
    err = assert_error(admin.post("/api/v1/organisations", json={
        "kind": "commune", "name": "Xã Mới", "abbreviation": "UBND", "parent_id": province}), 400)
    assert "OrganId" in err["message"]
    err = assert_error(admin.post("/api/v1/organisations", json={
        "kind": "province", "name": "Tỉnh", "abbreviation": "UBND", "organ_id": "000.00.00.H99",
        "parent_id": province}), 400)
    assert "cannot be placed under" in err["message"]
    assert_error(admin.post("/api/v1/organisations", json={
        "kind": "commune", "name": "Trùng", "abbreviation": "UBND", "organ_id": "000.00.31.H41",
        "parent_id": province}), 409, "conflict")
    assert_error(admin.post("/api/v1/organisations", json={"kind": "village", "name": "x", "abbreviation": "X"}),
                 400)
    err = assert_error(admin.post("/api/v1/users", json={
        "username": "weak", "password": "onlyletterss", "full_name": "W", "agency_id": province,
        "roles": ["clerk"]}), 400)
    assert "letters and digits" in err["message"]
    assert_error(admin.post("/api/v1/users", json={
        "username": "vanthu", "password": "Password-2026", "full_name": "Dup",
        "agency_id": province, "roles": ["clerk"]}), 409)
    err = assert_error(admin.post("/api/v1/users", json={
        "username": "x1x", "password": "Password-2026", "full_name": "R", "agency_id": province,
        "roles": ["king"]}), 400)
    assert err["details"][0]["field"].startswith("roles")


def test_changing_rights_revokes_tokens(api, client) -> None:  # type: ignore[no-untyped-def]
    headers = api.headers("chuyenvien")
    me = client.get("/api/v1/me", headers=headers).get_json()
    r = api.as_user("quantri").patch(f"/api/v1/users/{me['id']}", json={"clearance": "mat"})
    assert r.status_code == 200 and r.get_json()["clearance"] == "mat"
    assert_error(client.get("/api/v1/me", headers=headers), 401)


def test_users_list_is_paginated_and_scoped(api) -> None:  # type: ignore[no-untyped-def]
    r = api.as_user("vanthu").get("/api/v1/users", query_string={"per_page": 3})
    page = r.get_json()
    assert page["per_page"] == 3 and len(page["items"]) == 3 and page["next_page"] == 2
    assert page["total"] == 7  # the commune's users only: no department or province users
    names = {u["username"] for u in api.as_user("vanthu").get("/api/v1/users",
                                                              query_string={"per_page": 50}).get_json()["items"]}
    assert "snv.vanthu" not in names and "tinh.quantri" not in names
    assert_error(api.as_user("vanthu").get("/api/v1/users", query_string={"per_page": 0}), 400)


def test_nobody_grants_himself_roles_clearance_or_units(api, demo, pages) -> None:  # type: ignore[no-untyped-def]
    """Issue 14 §8: an administrator PATCHed himself to leader + clerk with Tuyệt mật clearance."""
    admin = api.as_user("quantri")
    me = admin.get("/api/v1/me").get_json()
    units = [o["id"] for o in admin.get("/api/v1/organisations", query_string={"per_page": 200}).get_json()["items"]
             if o["kind"] == "unit" and o["agency_id"] == me["agency_id"]]
    for change in ({"roles": ["admin", "leader", "clerk"]}, {"clearance": "tuyet_mat"}, {"unit_ids": units},
                   {"is_active": False}):
        err = assert_error(admin.patch(f"/api/v1/users/{me['id']}", json=change), 403, "forbidden")
        assert "your own" in err["message"]
    # The same through the administration page (which always posts every field).
    page = pages("quantri")
    r = page.post(f"/admin/users/{me['id']}", {"roles": ["admin", "leader"], "clearance": "tuyet_mat",
                                               "unit_ids": [str(u) for u in me["unit_ids"]], "is_active": "on",
                                               "position": me["position"]})
    assert r.status_code == 403
    after = admin.get("/api/v1/me").get_json()
    assert after["roles"] == ["admin"] and after["clearance"] == "none"
    # What is not a right he may change himself; his rights another administrator changes.
    r = admin.patch(f"/api/v1/users/{me['id']}", json={"position": "Quản trị viên", "roles": ["admin"],
                                                       "clearance": "none"})
    assert r.status_code == 200, r.get_json()
    r = api.as_user("tinh.quantri").patch(f"/api/v1/users/{me['id']}", json={"clearance": "mat"})
    assert r.status_code == 200 and r.get_json()["clearance"] == "mat"


def test_another_agencys_user_looks_missing(api, demo) -> None:  # type: ignore[no-untyped-def]
    """Issue 14 §8: PATCH /users/{id} answered 403 for another agency's user and 404 for a missing id."""
    commune_admin = api.as_user("quantri")
    other, missing = demo.users["snv.vanthu"], 999_999
    for body in ({"position": "x"}, {"password": "snv.vanthu-2026x"}, {"roles": ["clerk"]}):
        a = assert_error(commune_admin.patch(f"/api/v1/users/{other}", json=body), 404, "not_found")
        b = assert_error(commune_admin.patch(f"/api/v1/users/{missing}", json=body), 404, "not_found")
        assert a["message"].replace(str(other), "ID") == b["message"].replace(str(missing), "ID")
    for client in (commune_admin, api.as_user("vanthu")):
        assert_error(client.get(f"/api/v1/users/{other}"), 404)
        assert_error(client.patch(f"/api/v1/users/{other}", json={"position": "x"}), 404)
    # A non-admin of the same agency is refused (he can list those users anyway).
    assert_error(api.as_user("vanthu").patch(f"/api/v1/users/{demo.users['chuyenvien']}",
                                             json={"position": "x"}), 403)
