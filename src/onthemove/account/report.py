"""The progress report: every indicator of a part of the framework, for a period and a place, with its baseline,
target, actual, status and reason, its disaggregations and its months; as a dict (API, JSON), a self-contained
HTML page with charts, or an XLSX workbook."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onthemove.account import values
from onthemove.account.framework import Framework, Indicator, Node
from onthemove.account.periods import Period, parse_period
from onthemove.store.base import Store

STATUS_COLOURS = {  # Okabe-Ito; the status is always written out too, never told by colour alone
    "on track": "#009E73",
    "at risk": "#E69F00",
    "off track": "#D55E00",
    "no target": "#999999",
    "no data": "#cccccc",
}


@dataclass
class Line:
    """One indicator in the report."""

    evaluation: values.Evaluation
    breakdowns: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    months: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class Section:
    node: Node
    path: list[Node]
    lines: list[Line]


@dataclass
class Report:
    framework: Framework
    period: Period
    place: str | None
    place_name: str
    part: str | None
    sections: list[Section]
    generated: str

    def lines(self) -> list[Line]:
        return [line for s in self.sections for line in s.lines]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(values.STATUSES, 0)
        for line in self.lines():
            out[line.evaluation.status] += 1
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "framework": self.framework.name,
            "title": self.framework.title,
            "period": self.period.label,
            "place": self.place,
            "place_name": self.place_name,
            "part": self.part,
            "generated": self.generated,
            "status_counts": self.counts(),
            "sections": [
                {
                    "node": s.node.id,
                    "kind": s.node.kind,
                    "title": s.node.title,
                    "path": [{"id": n.id, "kind": n.kind, "title": n.title} for n in s.path],
                    "indicators": [
                        {
                            **line.evaluation.as_dict(),
                            "disaggregation": line.breakdowns,
                            "months": [{"month": m, "value": v} for m, v in line.months],
                        }
                        for line in s.lines
                    ],
                }
                for s in self.sections
            ],
        }


def build(
    store: Store,
    fw: Framework,
    period: str | Period,
    place: str | None = None,
    part: str | None = None,
    scope: Sequence[str] | None = None,
    progress: Any = None,
) -> Report:
    """Evaluate every indicator of ``part`` (a node id; None for the whole framework) for ``place`` and
    ``period``. ``scope``: a partner's areas (figures outside it are not counted)."""
    p = parse_period(period) if isinstance(period, str) else period
    code, _ = values.place_level(store, place)
    name = ""
    if code is not None:
        row = store.fetch_one("SELECT name FROM places WHERE pcode = $p", {"p": code})
        name = str(row[0]) if row else code
    else:
        rows = store.fetch("SELECT DISTINCT p.name FROM places p WHERE p.admin_level = 0 ORDER BY 1")
        name = ", ".join(str(r[0]) for r in rows) or "programme"
    nodes = fw.part(part)
    todo = [(n, [i for i in fw.indicators.values() if i.node == n.id]) for n in nodes]
    todo = [(n, inds) for n, inds in todo if inds]
    total = sum(len(i) for _, i in todo)
    done = 0
    sections = []
    for node, inds in todo:
        lines = []
        for ind in inds:
            if progress is not None:
                progress(done, total, ind.code)
            lines.append(_line(store, fw, ind, p, code, scope))
            done += 1
        sections.append(Section(node, fw.path(node.id), lines))
    if progress is not None:
        progress(total, total, "done")
    return Report(fw, p, code, name, part, sections, dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat())


def _line(store: Store, fw: Framework, ind: Indicator, p: Period, place: str | None, scope: Any) -> Line:
    ev = values.evaluate(store, fw, ind, p, place, scope)
    line = Line(ev)
    for dim in ind.disaggregation:
        rows = values.breakdown(store, ind, p, place, dim, scope)
        if rows:
            line.breakdowns[dim] = rows
    line.months = values.monthly(store, ind, p, place, scope)
    return line


# --- HTML --------------------------------------------------------------------------------------------------

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;margin:0 auto;
max-width:1100px;padding:1rem 1.5rem 3rem}
h1{font-size:1.5rem}h2{margin-top:2rem;border-bottom:1px solid #ccc}h3{margin:1.4rem 0 .3rem}
table{border-collapse:collapse;margin:.4rem 0 1rem;font-variant-numeric:tabular-nums;font-size:.9rem}
caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{padding:.25rem .5rem;border-bottom:1px solid #e3e3e3;text-align:right;vertical-align:top}
th:first-child,td.name{text-align:left}thead th{background:#f4f4f4}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:.6rem;color:#000;font-size:.85rem;white-space:nowrap}
.reason{color:#333;max-width:60rem}.path{color:#555;font-size:.9rem}.charts{display:flex;flex-wrap:wrap;gap:1rem}
figure{margin:0}figcaption{font-size:.85rem;color:#444}svg{font:11px system-ui,sans-serif}
.sr{position:absolute;left:-9999px}
"""


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _num(x: float | None, ind: Indicator) -> str:
    if x is None:
        return "–"
    if ind.measure == "percentage":
        return f"{x:.1f}%"
    return f"{x:,.0f}" if abs(x) >= 100 or float(x).is_integer() else f"{x:,.2f}"


def _badge(status: str) -> str:
    return f'<span class="badge" style="background:{STATUS_COLOURS[status]}">{_e(status)}</span>'


def _bars(title: str, rows: list[dict[str, Any]], ind: Indicator, width: int = 460) -> str:
    rows = sorted(rows, key=lambda r: -(r["value"] or 0))[:15]
    if not rows:
        return ""
    top = max((r["value"] or 0) for r in rows) or 1.0
    bar_h, left = 18, 150
    height = bar_h * len(rows) + 10
    parts = [
        f'<svg role="img" aria-label="{_e(title)}" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
    ]
    for i, r in enumerate(rows):
        y = 5 + i * bar_h
        w = (width - left - 70) * (r["value"] or 0) / top
        parts.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{_e(str(r["key"])[:24])}</text>')
        parts.append(f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{bar_h - 5}" fill="#0072B2"/>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + 13}">{_e(_num(r["value"], ind))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _trend(title: str, months: list[tuple[str, float]], ind: Indicator, target: float | None) -> str:
    if len(months) < 2:
        return ""
    width, height, left, bottom = 460, 180, 60, 24
    ys = [v for _, v in months] + ([target] if target is not None else [])
    lo, hi = min(0.0, min(ys)), max(ys) or 1.0
    n = len(months)

    def x(i: int) -> float:
        return left + (width - left - 10) * i / (n - 1)

    def y(v: float) -> float:
        return 8 + (height - bottom - 8) * (1 - (v - lo) / ((hi - lo) or 1))

    pts = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, (_, v) in enumerate(months))
    out = [
        f'<svg role="img" aria-label="{_e(title)}" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f'<line x1="{left}" y1="{y(lo):.1f}" x2="{width - 10}" y2="{y(lo):.1f}" stroke="#999"/>',
        f'<text x="{left - 4}" y="{y(hi) + 4:.1f}" text-anchor="end">{_e(_num(hi, ind))}</text>',
        f'<text x="{left - 4}" y="{y(lo):.1f}" text-anchor="end">{_e(_num(lo, ind))}</text>',
        f'<polyline points="{pts}" fill="none" stroke="#0072B2" stroke-width="2"/>',
        f'<text x="{left}" y="{height - 6}">{_e(months[0][0])}</text>',
        f'<text x="{width - 10}" y="{height - 6}" text-anchor="end">{_e(months[-1][0])}</text>',
    ]
    if target is not None:
        out.append(
            f'<line x1="{left}" y1="{y(target):.1f}" x2="{width - 10}" y2="{y(target):.1f}" stroke="#D55E00" '
            f'stroke-dasharray="5 4"/><text x="{width - 12}" y="{y(target) - 4:.1f}" text-anchor="end" '
            f'fill="#D55E00">target {_e(_num(target, ind))}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def to_html(report: Report) -> str:
    counts = report.counts()
    where = f"{report.place_name} ({report.place})" if report.place else report.place_name
    head = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Progress report {_e(report.period.label)} – {_e(where)}</title><style>{CSS}</style></head><body>",
        f"<h1>Progress report: {_e(report.framework.title)}</h1>",
        f"<p>Period <strong>{_e(report.period.label)}</strong> ({report.period.start} to {report.period.end}); "
        f"place <strong>{_e(where)}</strong>"
        + (f"; part <strong>{_e(report.part)}</strong>" if report.part else "")
        + f". Generated {_e(report.generated)} by onthemove.</p>",
        "<table><caption>Indicators by status</caption><thead><tr><th>status</th><th>indicators</th></tr></thead>"
        "<tbody>"
        + "".join(f"<tr><td class='name'>{_badge(s)}</td><td>{n}</td></tr>" for s, n in counts.items() if n)
        + "</tbody></table>",
    ]
    summary = [
        "<h2>Summary</h2><table><caption>Every indicator: baseline, target, actual and status</caption><thead><tr>"
        "<th>indicator</th><th>result</th><th>baseline</th><th>target</th><th>actual</th><th>status</th>"
        "</tr></thead><tbody>"
    ]
    for s in report.sections:
        for line in s.lines:
            ev, ind = line.evaluation, line.evaluation.indicator
            summary.append(
                f"<tr><td class='name'><a href='#{_e(ind.code)}'>{_e(ind.code)}</a> {_e(ind.name)}</td>"
                f"<td class='name'>{_e(s.node.id)}</td>"
                f"<td>{_num(ev.baseline.value if ev.baseline else None, ind)}</td>"
                f"<td>{_num(ev.target.value if ev.target else None, ind)}</td>"
                f"<td>{_num(ev.actual.value if ev.actual else None, ind)}</td><td>{_badge(ev.status)}</td></tr>"
            )
    summary.append("</tbody></table>")
    body = []
    for s in report.sections:
        crumbs = " › ".join(f"{_e(n.id)} {_e(n.title)}" for n in s.path)
        body.append(f"<h2>{_e(s.node.id)} {_e(s.node.title)}</h2><p class='path'>{crumbs}</p>")
        if s.node.statement:
            body.append(f"<p class='reason'><em>{_e(s.node.statement)}</em></p>")
        for line in s.lines:
            ev, ind = line.evaluation, line.evaluation.indicator
            body.append(f"<h3 id='{_e(ind.code)}'>{_e(ind.code)}: {_e(ind.name)} {_badge(ev.status)}</h3>")
            body.append(f"<p class='reason'>{_e(ev.reason)}</p>")
            facts = [
                ("unit", ind.unit or ind.measure),
                ("direction", ind.direction),
                ("aggregation", ind.aggregation),
                ("source", "computed from the store" if ind.computed else ("children" if ind.children else "reported")),
            ]
            for label, fig in (("baseline", ev.baseline), ("target", ev.target), ("actual", ev.actual)):
                if fig is not None:
                    facts.append((label, f"{_num(fig.value, ind)} ({fig.period}, {fig.source})"))
            body.append(
                "<table><tbody>"
                + "".join(f"<tr><th scope='row'>{_e(k)}</th><td class='name'>{_e(v)}</td></tr>" for k, v in facts)
                + "</tbody></table>"
            )
            charts = []
            target = ev.target.value if ev.target else None
            trend = _trend(f"{ind.code} month by month", line.months, ind, target)
            if trend:
                charts.append(f"<figure>{trend}<figcaption>{_e(ind.code)} month by month</figcaption></figure>")
            for dim, rows in line.breakdowns.items():
                chart = _bars(f"{ind.code} by {dim}", rows, ind)
                table = (
                    f"<table><caption>{_e(ind.code)} by {_e(dim)}</caption><thead><tr><th>{_e(dim)}</th>"
                    "<th>value</th></tr></thead><tbody>"
                    + "".join(
                        f"<tr><td class='name'>{_e(r['key'])}</td><td>{_num(r['value'], ind)}</td></tr>" for r in rows
                    )
                    + "</tbody></table>"
                )
                charts.append(f"<figure>{chart}<figcaption>{_e(ind.code)} by {_e(dim)}</figcaption>{table}</figure>")
            if line.months:
                charts.append(
                    f"<details><summary>{_e(ind.code)}: the months as a table</summary><table><thead><tr><th>month"
                    "</th><th>value</th></tr></thead><tbody>"
                    + "".join(f"<tr><td class='name'>{m}</td><td>{_num(v, ind)}</td></tr>" for m, v in line.months)
                    + "</tbody></table></details>"
                )
            if charts:
                body.append(f"<div class='charts'>{''.join(charts)}</div>")
    return "".join(head + summary + body) + "</body></html>"


# --- XLSX --------------------------------------------------------------------------------------------------


def to_xlsx(report: Report, path: str | Path) -> Path:
    """A workbook: Summary (one row per indicator), Disaggregation and Months (long), Framework (every node)."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Summary"
    bold = Font(bold=True)
    ws.append([f"Progress report: {report.framework.title}"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(["period", report.period.label, "place", report.place or "", report.place_name])
    ws.append(["generated", report.generated, "part", report.part or "(all)"])
    ws.append([])
    header = [
        "result", "result title", "indicator", "name", "unit", "measure", "direction", "baseline", "baseline period",
        "target", "target period", "actual", "period", "source", "status", "reason",
    ]  # fmt: skip
    ws.append(header)
    for cell in ws[ws.max_row]:
        cell.font = bold
    for s in report.sections:
        for line in s.lines:
            ev, ind = line.evaluation, line.evaluation.indicator
            ws.append([
                s.node.id, s.node.title, ind.code, ind.name, ind.unit, ind.measure, ind.direction,
                ev.baseline.value if ev.baseline else None, ev.baseline.period if ev.baseline else None,
                ev.target.value if ev.target else None, ev.target.period if ev.target else None,
                ev.actual.value if ev.actual else None, report.period.label,
                ev.actual.source if ev.actual else None, ev.status, ev.reason,
            ])  # fmt: skip
            fill = STATUS_COLOURS[ev.status].lstrip("#")
            ws.cell(ws.max_row, 15).fill = PatternFill("solid", fgColor=fill)
    for col, width in zip(
        "ABCDEFGHIJKLMNOP", (8, 30, 20, 50, 10, 10, 10, 12, 12, 12, 12, 12, 10, 10, 10, 80), strict=True
    ):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A6"

    st = wb.create_sheet("Status")
    st.append(["status", "indicators"])
    for status, n in report.counts().items():
        st.append([status, n])
    chart = BarChart()
    chart.title = "Indicators by status"
    chart.add_data(Reference(st, min_col=2, min_row=1, max_row=st.max_row), titles_from_data=True)
    chart.set_categories(Reference(st, min_col=1, min_row=2, max_row=st.max_row))
    st.add_chart(chart, "D2")

    dis = wb.create_sheet("Disaggregation")
    dis.append(["indicator", "dimension", "key", "value"])
    for line in report.lines():
        for dim, rows in line.breakdowns.items():
            for r in rows:
                dis.append([line.evaluation.indicator.code, dim, str(r["key"]), r["value"]])
    mon = wb.create_sheet("Months")
    mon.append(["indicator", "month", "value"])
    for line in report.lines():
        for m, v in line.months:
            mon.append([line.evaluation.indicator.code, m, v])
    fw_sheet = wb.create_sheet("Framework")
    fw_sheet.append(["id", "kind", "parent", "title", "statement", "SDG", "indicators"])
    for node in report.framework.nodes.values():
        inds = ", ".join(i.code for i in report.framework.indicators.values() if i.node == node.id)
        fw_sheet.append([node.id, node.kind, node.parent or "", node.title, node.statement, ", ".join(node.sdg), inds])
    for sheet in (dis, mon, fw_sheet, st):
        for cell in sheet[1]:
            cell.font = bold
    out = Path(path)
    wb.save(out)
    return out
