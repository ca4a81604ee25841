"""Server-rendered SVG charts of the dashboard (no script, printable, readable on a phone)."""

from __future__ import annotations

from html import escape
from typing import Any

PALETTE = ("#1f5fa8", "#c0392b", "#2e8b57", "#d68910", "#7d3c98", "#5d6d7e")


def monthly_bars(series: dict[str, list[int]], *, title: str, width: int = 640, height: int = 220) -> str:
    """Stacked bars, one per month, one colour per type (the five largest; the rest as "Khác")."""
    names = list(series)[:5]
    rest = [sum(v[m] for k, v in series.items() if k not in names) for m in range(12)]
    rows = [(n, series[n]) for n in names] + ([("Khác", rest)] if any(rest) else [])
    totals = [sum(v[m] for _, v in rows) for m in range(12)]
    top = max(totals + [1])
    left, bottom, plot_h = 36, height - 40, height - 70
    bar_w = (width - left - 10) / 12
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" class="chart" preserveAspectRatio="xMidYMid meet">',
             f'<title>{escape(title)}</title>',
             f'<line x1="{left}" y1="{bottom}" x2="{width - 5}" y2="{bottom}" stroke="#888"/>',
             f'<text x="{left - 4}" y="{bottom - plot_h + 4}" font-size="10" text-anchor="end">{top}</text>',
             f'<text x="{left - 4}" y="{bottom}" font-size="10" text-anchor="end">0</text>']
    for m in range(12):
        x = left + m * bar_w + 3
        y: float = bottom
        for i, (name, values) in enumerate(rows):
            h = plot_h * values[m] / top
            if h:
                y -= h
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 6:.1f}" height="{h:.1f}" '
                             f'fill="{PALETTE[i % len(PALETTE)]}"><title>{escape(name)} T{m + 1}: '
                             f'{values[m]}</title></rect>')
        parts.append(f'<text x="{x + (bar_w - 6) / 2:.1f}" y="{bottom + 14}" font-size="10" '
                     f'text-anchor="middle">T{m + 1}</text>')
    legend_y = height - 8
    x = left
    for i, (name, _) in enumerate(rows):
        parts.append(f'<rect x="{x}" y="{legend_y - 9}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
                     f'<text x="{x + 14}" y="{legend_y}" font-size="10">{escape(name[:18])}</text>')
        x += 14 + 7 * min(len(name), 18) + 12
    parts.append("</svg>")
    return "".join(parts)


def handling_bars(rows: list[dict[str, Any]], *, title: str, width: int = 640) -> str:
    """One horizontal stacked bar per unit/officer: on time, late, overdue, open."""
    kinds = (("on_time", "#2e8b57"), ("late", "#d68910"), ("overdue", "#c0392b"), ("open", "#9aa5b1"))
    row_h, label_w = 22, 180
    height = 20 + row_h * max(len(rows), 1)
    top = max([r["total"] for r in rows] + [1])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>']
    for i, r in enumerate(rows):
        y = 10 + i * row_h
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" font-size="11" text-anchor="end">'
                     f'{escape(str(r["name"])[:28])}</text>')
        x = float(label_w)
        for key, colour in kinds:
            w = (width - label_w - 10) * r[key] / top
            if w:
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h - 6}" fill="{colour}">'
                             f'<title>{key}: {r[key]}</title></rect>')
                x += w
    parts.append("</svg>")
    return "".join(parts)
