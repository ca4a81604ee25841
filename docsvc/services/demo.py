"""A demo province with a commune, a department and users of every role (``docsvc demo``).

Idempotent: running it again keeps what exists. The data is the shape a real deployment has after
onboarding, so the demo doubles as the fixture of the end-to-end and browser tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from docsvc.domain.policies import SYSTEM
from docsvc.errors import NotFound
from docsvc.services.identity import IdentityService, OrganisationView

DEMO_PASSWORD = "docsvc-demo-2026"
DEMO_PIN = "123456"  # PIN of the demo signers' keys (leaders and unit heads)
DEMO_SIGNERS = ("chutich", "phochutich", "truongphong", "snv.giamdoc")

PROVINCE = ("province", "Ủy ban nhân dân tỉnh Lạng Sơn", "UBND", "000.00.00.H41")
AGENCIES = [
    # key, kind, name, abbreviation, OrganId
    ("dongdang", "commune", "Ủy ban nhân dân xã Đồng Đăng", "UBND", "000.00.31.H41"),
    ("snv", "department", "Sở Nội vụ tỉnh Lạng Sơn", "SNV", "000.00.02.H41"),
]
UNITS = [
    # agency key, unit key, name, abbreviation
    ("dongdang", "vp", "Văn phòng HĐND và UBND", "VP"),
    ("dongdang", "pkt", "Phòng Kinh tế", "PKT"),
    ("dongdang", "pvhxh", "Phòng Văn hóa - Xã hội", "VHXH"),
    ("snv", "snv_vp", "Văn phòng Sở", "VP"),
    ("snv", "snv_ccvc", "Phòng Công chức, viên chức", "CCVC"),
]
USERS = [
    # username, full name, position, agency key, roles, clearance, unit keys
    ("vanthu", "Nguyễn Thị Lan", "Văn thư", "dongdang", ["clerk"], "mat", ["vp"]),
    ("chuyenvien", "Trần Văn Minh", "Chuyên viên", "dongdang", ["officer"], "none", ["pkt"]),
    ("truongphong", "Lê Thị Hoa", "Trưởng phòng Kinh tế", "dongdang", ["unit_head", "officer"], "mat", ["pkt"]),
    ("chutich", "Hoàng Văn Nam", "Chủ tịch", "dongdang", ["leader"], "tuyet_mat", []),
    ("phochutich", "Phạm Thị Mai", "Phó Chủ tịch", "dongdang", ["leader"], "toi_mat", []),
    ("luutru", "Đỗ Văn Bình", "Lưu trữ viên", "dongdang", ["archivist"], "mat", ["vp"]),
    ("quantri", "Vũ Quốc Huy", "Quản trị hệ thống", "dongdang", ["admin"], "none", ["vp"]),
    ("snv.vanthu", "Bùi Thị Thu", "Văn thư", "snv", ["clerk"], "mat", ["snv_vp"]),
    ("snv.chuyenvien", "Ngô Văn Sơn", "Chuyên viên", "snv", ["officer"], "none", ["snv_ccvc"]),
    ("snv.giamdoc", "Đặng Văn Long", "Giám đốc", "snv", ["leader"], "toi_mat", []),
    ("tinh.quantri", "Lý Thị Ngọc", "Quản trị hệ thống", "province", ["admin"], "none", []),
]


@dataclass
class DemoReport:
    organisations: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    created: int = 0
    password: str = DEMO_PASSWORD


def seed_demo(identity: IdentityService) -> DemoReport:
    report = DemoReport()
    province = _org(identity, report, "province", *PROVINCE, parent_id=None)
    agencies = {"province": province}
    for key, kind, name, abbr, organ_id in AGENCIES:
        agencies[key] = _org(identity, report, key, kind, name, abbr, organ_id, parent_id=province.id)
    units: dict[str, OrganisationView] = {}
    existing = identity.list_organisations()
    for agency_key, key, name, abbr in UNITS:
        parent = agencies[agency_key]
        found = next((o for o in existing if o.parent_id == parent.id and o.abbreviation == abbr), None)
        if found is None:
            found = identity.add_organisation(SYSTEM, kind="unit", name=name, abbreviation=abbr, parent_id=parent.id)
            report.created += 1
        units[key] = found
        report.organisations[key] = found.id
    for username, full_name, position, agency_key, roles, clearance, unit_keys in USERS:
        try:
            user = identity.find_user(username)
        except NotFound:
            user = identity.add_user(SYSTEM, username=username, password=DEMO_PASSWORD, full_name=full_name,
                                     agency_id=agencies[agency_key].id, roles=roles, clearance=clearance,
                                     unit_ids=[units[u].id for u in unit_keys], position=position)
            report.created += 1
        report.users[username] = user.id
    return report


def _org(identity: IdentityService, report: DemoReport, key: str, kind: str, name: str, abbr: str,
         organ_id: str, *, parent_id: int | None) -> OrganisationView:
    try:
        org = identity.find_organisation(organ_id)
    except NotFound:
        org = identity.add_organisation(SYSTEM, kind=kind, name=name, abbreviation=abbr, organ_id=organ_id,
                                        parent_id=parent_id)
        report.created += 1
    report.organisations[key] = org.id
    return org


def enrol_demo_signers(db: Any, signatures: Any, usernames: tuple[str, ...] = DEMO_SIGNERS) -> list[str]:
    """Give the demo signers a certificate from the internal CA (PIN ``DEMO_PIN``); idempotent.
    A CA not created yet (``docsvc init`` knew no organisation) is created for the demo province."""
    from sqlalchemy import select
    if not signatures.ca_exists():
        signatures.init_ca(signatures.settings.organisation or PROVINCE[1])

    from docsvc.db.models import SigningKey, User
    done = []
    with db.write() as s:
        for username in usernames:
            user = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
            if user is None:
                continue
            has_key = s.execute(select(SigningKey.id).where(SigningKey.user_id == user.id,
                                                            SigningKey.revoked_at.is_(None))).first()
            if has_key is None:
                signatures.enrol_user(s, user, DEMO_PIN)
                done.append(username)
    return done


#: The demo commune's dossier plan of the current year: (notation, title, retention code, owner).
DEMO_DOSSIERS = [
    ("01.VP", "Tập lưu văn bản đi của Ủy ban nhân dân xã", "VV-01", "vanthu"),
    ("02.VP", "Hồ sơ kế hoạch, báo cáo công tác năm của xã", "VV-02", "vanthu"),
    ("03.KT", "Hồ sơ kế hoạch phát triển kinh tế - xã hội năm", "KH-10", "chuyenvien"),
    ("04.KT", "Công văn trao đổi về những vấn đề chung của Phòng Kinh tế", "CV-05", "chuyenvien"),
]


def seed_demo_dossiers(identity: IdentityService, dossiers: Any, year: int | None = None) -> int:
    """Open the demo commune's dossier plan of ``year`` (default: this year); idempotent. Returns
    how many dossiers were created."""
    from docsvc.timeutil import vn_today
    year = year or vn_today().year
    commune = identity.find_organisation(AGENCIES[0][4])
    plans = [p for p in dossiers.plans(SYSTEM, commune.id) if p["year"] == year]
    plan = plans[0] if plans else dossiers.create_plan(SYSTEM, year=year, agency_id=commune.id)
    existing = {d["notation"] for d in dossiers.plan(SYSTEM, plan["id"])["dossiers"]}
    created = 0
    for notation, title, retention, owner in DEMO_DOSSIERS:
        if notation not in existing:
            dossiers.add(SYSTEM, plan["id"], notation=notation, title=title, retention_code=retention,
                         owner_id=identity.find_user(owner).id, open_now=True)
            created += 1
    return created

