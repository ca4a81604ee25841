"""The reorganisation report (PDF): what moved where, with counts and the SHA-256 checks."""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

#: Vietnamese titles of the job's steps, in the report.
STEP_TITLES = {"snapshot": "Kiểm kê trước", "lifecycle": "Cơ quan kế thừa, chấm dứt hoạt động",
               "units": "Đơn vị", "users": "Người dùng", "incoming": "Văn bản đến đang xử lý",
               "drafts": "Dự thảo", "signing_keys": "Chứng thư số thu hồi", "fonds": "Phông lưu trữ",
               "verify": "Kiểm kê sau"}


def render(plan: dict[str, Any], items: list[tuple[str, str, dict[str, Any]]], before: dict[str, Any],
           after: dict[str, Any], *, font_path: str | None = None) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    from docsvc.services.pdf_fonts import vietnamese_font
    font = vietnamese_font(font_path)
    title = ParagraphStyle("t", fontName=font, fontSize=13, leading=17, alignment=1)
    body = ParagraphStyle("b", fontName=font, fontSize=9, leading=11.5)
    small = ParagraphStyle("s", fontName=font, fontSize=7.5, leading=9)

    def table(rows: list[list[str]], widths: list[float]) -> Table:
        t = Table([[Paragraph(_esc(c), small) for c in r] for r in rows], colWidths=widths, repeatRows=1)
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee"))]))
        return t

    width = A4[0] - 30 * mm
    story: list[Any] = [Paragraph("BÁO CÁO SẮP XẾP, TỔ CHỨC LẠI CƠ QUAN", title), Spacer(1, 3 * mm),
                        Paragraph(_esc(f"Kế hoạch #{plan['id']} ({plan['kind']}) — {plan['decision']} — hiệu lực "
                                       f"{plan['effective_date']} — trạng thái {plan['status']}"), body),
                        Spacer(1, 4 * mm)]
    counts = Counter(step for step, _, _ in items)
    story.append(table([["Bước", "Số mục đã thực hiện"]] + [[STEP_TITLES.get(s, s), str(counts.get(s, 0))]
                                                             for s in STEP_TITLES], [width * 0.7, width * 0.3]))
    story.append(Spacer(1, 4 * mm))
    b, a = before.get("counts", {}), after.get("counts", {})
    story.append(table([["Kiểm kê", "Trước", "Sau"]] + [[k, str(b.get(k, "")), str(a.get(k, ""))]
                                                        for k in sorted(set(b) | set(a))]
                       + [["SHA-256", before.get("sha256", ""), after.get("sha256", "")]],
                       [width * 0.2, width * 0.4, width * 0.4]))
    problems = after.get("problems", [])
    story.append(Paragraph(_esc("Không có hồ sơ, tài liệu nào bị mất hoặc thay đổi." if after and not problems
                                else "; ".join(problems) or "Chưa kiểm kê sau."), body))
    story.append(Spacer(1, 4 * mm))
    rows = [["Bước", "Mục", "Chi tiết"]]
    for step, key, details in items:
        if step in ("snapshot", "verify"):
            continue
        rows.append([STEP_TITLES.get(step, step), key,
                     ", ".join(f"{k}={v}" for k, v in details.items() if k not in ("document", "user", "unit", "key"))])
    story.append(table(rows, [width * 0.2, width * 0.2, width * 0.6]))
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                      bottomMargin=15 * mm, title="Báo cáo sắp xếp cơ quan").build(story)
    return out.getvalue()


def _esc(text: Any) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
