"""Documents the contract tests index, and brute-force reference computations over them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from search import FACET_FIELDS, IndexDocument, Principal, SearchResult

T0 = datetime(2024, 6, 1, tzinfo=UTC)
READ_ALL = Principal(user_id="auditor", clearance=3, tokens=frozenset({"org:1"}))

_BODY_EXACT = ("Căn cứ Luật Tổ chức chính quyền địa phương; xét đề nghị của Giám đốc Sở Nội vụ. "
               "Điều 1. Phê duyệt kế hoạch tuyển dụng công chức năm 2024.")
_BODY_PLAIN = ("Can cu Luat To chuc chinh quyen dia phuong; xet de nghi cua Giam doc So Noi vu. "
               "Dieu 1. Phe duyet ke hoach tuyen dung cong chuc nam 2024.")


def doc(doc_id: str, subject: str, **fields: object) -> IndexDocument:
    values: dict[str, object] = {"direction": "incoming", "readers": ["org:1"], "updated_at": T0}
    values.update(fields)
    return IndexDocument(id=doc_id, subject=subject, **values)  # type: ignore[arg-type]


LIBRARY: list[IndexDocument] = [
    doc("d01", "Quyết định về việc phê duyệt kế hoạch tuyển dụng công chức năm 2024",
        type_code="QĐ", type_name="Quyết định", number=15, notation="15/QĐ-UBND",
        issuing_body="UBND tỉnh Lạng Sơn", organ_id="000.00.00.H41", incoming_number=101,
        full_text=_BODY_EXACT, issued_date=date(2024, 3, 1), arrival_date=date(2024, 3, 4),
        status="processing", dossier_ids=["ds-1"], dossier_codes=["01.TCCB"], signer="Nguyễn Văn An",
        retention="permanent"),
    doc("d02", "Quyet dinh ve viec phe duyet ke hoach tuyen dung cong chuc nam 2024",
        type_code="QĐ", type_name="Quyết định", number=16, notation="16/QĐ-UBND",
        issuing_body="UBND tỉnh Lạng Sơn", organ_id="000.00.00.H42", incoming_number=102,
        full_text=_BODY_PLAIN, issued_date=date(2024, 3, 2), arrival_date=date(2024, 3, 5),
        status="processing", dossier_ids=["ds-1", "ds-2"], retention="10"),
    doc("d03", "Về việc triển khai chuyển đổi số trong cơ quan nhà nước", direction="outgoing",
        type_name="Công văn", number=5, notation="05/UBND-VP", issuing_body="UBND huyện Cao Lộc",
        full_text="Để đẩy mạnh chuyển đổi số, Ủy ban nhân dân huyện yêu cầu các phòng ban thực hiện.",
        issued_date=date(2024, 5, 10), status="issued", urgency=1, dossier_ids=["ds-2"]),
    doc("d04", "Báo cáo tình hình kinh tế xã hội quý I", type_code="BC", type_name="Báo cáo",
        number=7, notation="07/BC-UBND", issuing_body="UBND huyện Cao Lộc", issued_date=date(2023, 4, 2),
        full_text="Tổng sản phẩm trên địa bàn tăng trưởng khá; hoạt động thương mại tại cửa khẩu "
                  "Đồng Đăng sôi động.", status="completed", archive_status="archived", retention="20"),
    doc("d05", "Kế hoạch phòng chống thiên tai và tìm kiếm cứu nạn", type_code="KH", type_name="Kế hoạch",
        number=3, notation="03/KH-UBND", issuing_body="UBND tỉnh Lạng Sơn",
        issued_date=date(2023, 11, 20), urgency=3, status="completed",
        full_text="Chủ động ứng phó với mưa lũ; di dời dân khỏi vùng nguy hiểm."),
    doc("d06", "Thông báo kết luận của Chủ tịch Ủy ban nhân dân tỉnh", direction="internal",
        type_code="TB", type_name="Thông báo", status="draft",
        full_text="Dự thảo thông báo kết luận cuộc họp giao ban."),
    doc("d07", "Tờ trình về việc đề nghị khen thưởng tập thể", type_code="TTr", type_name="Tờ trình",
        number=12, notation="12/TTr-SNV", issuing_body="Sở Nội vụ", issued_date=date(2024, 2, 1),
        full_text="Sở Nội vụ đề nghị khen thưởng tập thể có thành tích xuất sắc.", status="processing"),
    doc("d08", "Giấy mời họp tổng kết công tác thi đua", type_code="GM", type_name="Giấy mời",
        number=20, notation="20/GM-SNV", issuing_body="Sở Nội vụ", issued_date=date(2024, 2, 1),
        full_text="Thưởng cho những cá nhân được khen trong năm; đề nghị các đơn vị cử đại diện.",
        status="processing"),
]
# Filler for pagination, sorting and facets: equal dates (tie-break by id) and missing dates.
for _i in range(1, 25):
    LIBRARY.append(doc(
        f"f{_i:02d}", f"Văn bản số {_i} về công tác văn thư lưu trữ", type_code="TB" if _i % 3 else "HD",
        type_name="Thông báo" if _i % 3 else "Hướng dẫn", issuing_body="Văn phòng UBND tỉnh",
        issued_date=None if _i % 7 == 0 else date(2022, 1, 1) + timedelta(days=(_i // 2) * 10),
        direction=("incoming", "outgoing", "internal")[_i % 3], status="issued",
        full_text=f"Nội dung hướng dẫn công tác văn thư, mục {_i}.", urgency=_i % 4))


def by_id(docs: Iterable[IndexDocument]) -> dict[str, IndexDocument]:
    return {d.id: d for d in docs}


def readable(docs: Iterable[IndexDocument], principal: Principal) -> list[IndexDocument]:
    return [d for d in docs if principal.can_read(d.secrecy, d.readers)]


def facet_counts(docs: Sequence[IndexDocument], name: str) -> dict[object, int]:
    """Brute-force facet counts: how many of ``docs`` have each value of the facet's field."""
    field = FACET_FIELDS[name]
    counts: Counter[object] = Counter()
    for d in docs:
        value = getattr(d, field)
        for v in (value if isinstance(value, tuple) else (value,)):
            if v is not None:
                counts[v] += 1
    return dict(counts)


def date_order(docs: Iterable[IndexDocument], field: str = "issued_date", descending: bool = True) -> list[str]:
    """Ids sorted by date (missing dates last), ties by id."""
    dated = [d for d in docs if getattr(d, field) is not None]
    undated = sorted(d.id for d in docs if getattr(d, field) is None)
    dated.sort(key=lambda d: d.id)
    dated.sort(key=lambda d: getattr(d, field), reverse=descending)
    return [d.id for d in dated] + undated


def bump(d: IndexDocument, seconds: int, **changes: object) -> IndexDocument:
    """A later version of a document."""
    return replace(d, updated_at=(d.updated_at or T0) + timedelta(seconds=seconds), **changes)  # type: ignore[arg-type]


def ids(result: SearchResult) -> list[str]:
    return [h.id for h in result.hits]
