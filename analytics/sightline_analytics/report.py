"""`make report`: consume Sightline's topics into embedded ClickHouse, run the dashboard queries
and write one self-contained HTML page (inline SVG charts, no network assets).

    python -m sightline_analytics.report --brokers 127.0.0.1:9092 --out analytics/out/report.html
"""

import argparse
import html
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from . import pipeline, queries
from .engine import Engine
from .paths import CACHE

PALETTE = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#14b8a6"]


def esc(value) -> str:
    return html.escape(str(value))


def pct(x) -> str:
    return "–" if x is None else f"{float(x) * 100:.2f} %"


# ── charts ────────────────────────────────────────────────────────────────────────────────────

def bar_chart(rows: list) -> str:
    """CTR per college, one bar per cohort."""
    if not rows:
        return "<p class=empty>No ad impressions in this range.</p>"
    colleges = sorted({r["college"] or "(none)" for r in rows})
    cohorts = sorted({r["cohort"] or "(none)" for r in rows})
    by = {((r["college"] or "(none)"), (r["cohort"] or "(none)")): r for r in rows}
    top = (max(float(r["ctr"] or 0) for r in rows) or 1.0) * 1.15  # headroom for the labels
    w, h, left, bottom = 720, 300, 50, 50
    group_w = (w - left) / len(colleges)
    bar_w = group_w * 0.8 / len(cohorts)
    parts = [f'<svg viewBox="0 0 {w} {h + 30}" width="{w}" role="img" aria-label="CTR per college and cohort">']
    for i in range(5):
        y = h - bottom - (h - bottom - 10) * i / 4
        parts.append(f'<line x1="{left}" x2="{w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class=ax>{top * i / 4 * 100:.1f}%</text>')
    for ci, college in enumerate(colleges):
        x0 = left + ci * group_w + group_w * 0.1
        for k, cohort in enumerate(cohorts):
            r = by.get((college, cohort))
            if not r:
                continue
            ctr = float(r["ctr"] or 0)
            bh = (h - bottom - 10) * ctr / top
            x = x0 + k * bar_w
            parts.append(f'<rect x="{x:.1f}" y="{h - bottom - bh:.1f}" width="{bar_w - 2:.1f}" height="{bh:.1f}" '
                         f'fill="{PALETTE[k % len(PALETTE)]}"><title>{esc(college)} / {esc(cohort)}: CTR {pct(ctr)}, '
                         f'{r["clicks"]} clicks / {r["impressions"]} impressions</title></rect>'
                         f'<text x="{x + bar_w / 2 - 1:.1f}" y="{h - bottom - bh - 4:.1f}" text-anchor="middle" '
                         f'class=val>{ctr * 100:.1f}</text>')
        parts.append(f'<text x="{x0 + group_w * 0.4:.1f}" y="{h - bottom + 18}" text-anchor="middle" '
                     f'class=ax>{esc(college)}</text>')
    for k, cohort in enumerate(cohorts):
        parts.append(f'<rect x="{left + k * 110}" y="{h + 8}" width="12" height="12" fill="{PALETTE[k % len(PALETTE)]}"/>'
                     f'<text x="{left + k * 110 + 16}" y="{h + 18}" class=ax>cohort {esc(cohort)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def heatmap(rows: list, cell_px: int = 100) -> str:
    """The page as a grid of cells; color = impressions, label = CTR."""
    if not rows:
        return "<p class=empty>No ad positions in this range.</p>"
    max_x = max(int(r["cell_x"]) for r in rows) + 2
    max_y = max(int(r["cell_y"]) for r in rows) + 2
    scale = 36
    top = max(int(r["impressions"]) for r in rows) or 1
    w, h = max_x * scale + 200, max_y * scale + 40
    parts = [f'<svg viewBox="0 0 {w} {h}" width="{min(w, 900)}" role="img" aria-label="ad position heatmap">',
             f'<rect x="40" y="20" width="{max_x * scale}" height="{max_y * scale}" fill="#f8fafc" stroke="#cbd5e1"/>']
    parts.extend(f'<text x="{40 + gx * scale}" y="14" text-anchor="middle" class=ax>{gx * cell_px}</text>'
                 for gx in range(0, max_x + 1, 2))
    parts.extend(f'<text x="34" y="{24 + gy * scale}" text-anchor="end" class=ax>{gy * cell_px}</text>'
                 for gy in range(0, max_y + 1, 2))
    for r in rows:
        x, y = 40 + int(r["cell_x"]) * scale, 20 + int(r["cell_y"]) * scale
        heat = int(r["impressions"]) / top
        color = f"rgb({int(255 - 40 * heat)},{int(237 - 190 * heat)},{int(213 - 190 * heat)})"
        ink = "#fff" if heat > 0.5 else "#111827"  # label readable on dark and light cells
        parts.append(f'<rect x="{x}" y="{y}" width="{scale}" height="{scale}" fill="{color}" stroke="#fff">'
                     f'<title>cell ({r["x_px"]}, {r["y_px"]}) px: {r["impressions"]} impressions, '
                     f'{r["viewable_impressions"]} viewable, {r["clicks"]} clicks, CTR {pct(r["ctr"])}</title></rect>'
                     f'<text x="{x + scale / 2}" y="{y + scale / 2 + 4}" text-anchor="middle" class=cell style="fill:{ink}">'
                     f'{float(r["ctr"] or 0) * 100:.0f}%</text>')
    # colour scale: impressions per cell
    lx = 60 + max_x * scale
    for k in range(5):
        heat = k / 4
        color = f"rgb({int(255 - 40 * heat)},{int(237 - 190 * heat)},{int(213 - 190 * heat)})"
        parts.append(f'<rect x="{lx}" y="{20 + k * 22}" width="18" height="18" fill="{color}" stroke="#cbd5e1"/>'
                     f'<text x="{lx + 24}" y="{33 + k * 22}" class=ax>{round(top * heat)} impressions</text>')
    parts.append("</svg>")
    return "".join(parts)


def funnel_chart(rows: list) -> str:
    if not rows or not int(rows[0]["sessions"]):
        return "<p class=empty>No searching sessions in this range.</p>"
    first = int(rows[0]["sessions"])
    w, row_h = 720, 56
    parts = [f'<svg viewBox="0 0 {w} {row_h * len(rows) + 10}" width="{w}" role="img" aria-label="funnel">']
    for i, r in enumerate(rows):
        n = int(r["sessions"])
        bw = (w - 260) * n / first
        x = 130 + (w - 260 - bw) / 2
        y = 5 + i * row_h
        parts.append(f'<rect x="{x:.1f}" y="{y}" width="{bw:.1f}" height="{row_h - 12}" rx="4" fill="{PALETTE[i]}"/>'
                     f'<text x="120" y="{y + row_h / 2}" text-anchor="end" class=lbl>{esc(r["step_name"])}</text>'
                     f'<text x="{w - 120}" y="{y + row_h / 2}" class=lbl>{n} ({n / first * 100:.1f} %)</text>')
    parts.append("</svg>")
    return "".join(parts)


VIDEO_STEPS = [("started", "start"), ("first_quartile", "25 %"), ("midpoint", "50 %"), ("third_quartile", "75 %"),
               ("completed", "complete")]


def video_funnel_totals(rows: list) -> list:
    """video_quartile_funnel's rows (per slot, college, cohort) summed per quartile step:
    [(label, impressions reaching it)], start first."""
    return [(label, sum(int(r[name]) for r in rows)) for name, label in VIDEO_STEPS]


def video_funnel_chart(rows: list) -> str:
    """The video quartile funnel over every slot: one bar per step, as a share of the starts."""
    steps = video_funnel_totals(rows)
    first = steps[0][1]
    if not first:
        return "<p class=empty>No video ad starts in this range.</p>"
    w, row_h = 720, 40
    parts = [f'<svg viewBox="0 0 {w} {row_h * len(steps) + 10}" width="{w}" role="img" aria-label="video quartile funnel">']
    for i, (label, n) in enumerate(steps):
        bw = (w - 260) * n / first
        y = 5 + i * row_h
        parts.append(f'<rect x="130" y="{y}" width="{bw:.1f}" height="{row_h - 10}" rx="3" fill="{PALETTE[i % len(PALETTE)]}">'
                     f'<title>{esc(label)}: {n} of {first} started video impressions</title></rect>'
                     f'<text x="120" y="{y + row_h / 2}" text-anchor="end" class=lbl>{esc(label)}</text>'
                     f'<text x="{140 + bw:.1f}" y="{y + row_h / 2}" class=lbl>{n} ({n / first * 100:.1f} %)</text>')
    parts.append("</svg>")
    return "".join(parts)


def table(rows: list, columns: list, fmt: dict | None = None) -> str:
    if not rows:
        return "<p class=empty>No rows.</p>"
    fmt = fmt or {}
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{esc(fmt.get(c, lambda v: '–' if v is None else v)(r.get(c)))}</td>" for c in columns)
                   + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def ab_table(rows: list) -> str:
    for r in rows:
        p = r.get("p_value")
        r["verdict"] = "control" if r["variant"] == "control" else (
            "–" if p is None else ("significant (p < 0.05)" if float(p) < 0.05 else "not significant"))

    def num(v):
        return "–" if v is None else f"{float(v):.4f}"

    columns = ["experiment", "variant", "users", "impressions", "clicked_impressions", "clicks", "ctr", "z", "p_value", "verdict"]
    return table(rows, columns, {"ctr": pct, "z": num, "p_value": num})


# ── page ──────────────────────────────────────────────────────────────────────────────────────

CSS = """body{font:14px system-ui,sans-serif;margin:2em auto;max-width:980px;color:#111827}
h1{font-size:22px}h2{font-size:17px;margin-top:2em}p.q{color:#4b5563;margin:.2em 0 .8em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #e5e7eb;padding:3px 8px;text-align:right;white-space:nowrap}
th{background:#f3f4f6}.ax{font-size:11px;fill:#6b7280}.val{font-size:10px;fill:#111827}.cell{font-size:10px;fill:#111827}
.lbl{font-size:13px;fill:#111827}.cell{font-weight:600}.empty{color:#9ca3af}.meta{color:#6b7280;font-size:12px}"""


def render(results: dict, window: queries.Window, meta: dict) -> str:
    def section(title, name, body):
        return f"<h2>{esc(title)}</h2><p class=q>{esc(queries.question(name))}</p>{body}"

    r = results
    sections = [
        section("CTR per college and cohort", "ctr_by_college_cohort", bar_chart(r["ctr_by_college_cohort"])
                + table(r["ctr_by_college_cohort"], ["college", "cohort", "impressions", "viewable_impressions", "clicks", "ctr"],
                        {"ctr": pct})),
        section("Ad-position heatmap (CTR per 100 px cell, darker = more impressions)", "ad_heatmap", heatmap(r["ad_heatmap"])),
        section("Search → course view → ad click", "funnel_search_course_ad_click",
                funnel_chart(r["funnel_search_course_ad_click"])),
        section("A/B experiments: CTR per variant", "ab_ctr_significance", ab_table(r["ab_ctr_significance"])),
        section("Video ads: quartile funnel (start → 25 → 50 → 75 → complete)", "video_quartile_funnel",
                video_funnel_chart(r["video_quartile_funnel"])
                + table(r["video_quartile_funnel"],
                        ["slot_id", "college", "cohort", "impressions", "started", "first_quartile", "midpoint",
                         "third_quartile", "completed", "viewable_rate", "completion_rate", "avoc_rate",
                         "avg_in_view_playing_ms"],
                        {"viewable_rate": pct, "completion_rate": pct, "avoc_rate": pct})),
        section("Ad slots per day", "ctr_by_slot_daily",
                table(r["ctr_by_slot_daily"],
                      ["day", "slot_id", "impressions", "viewable_impressions", "clicks", "viewability_rate", "ctr"],
                      {"ctr": pct, "viewability_rate": pct})),
        section("Interactions per kind and day", "events_by_kind_daily",
                table(r["events_by_kind_daily"], ["day", "kind", "events", "users", "sessions"])),
        section("Rejected events", "rejected_by_reason", table(r["rejected_by_reason"], ["reason", "rejected"])),
    ]
    site = esc(window.site_key)
    return (f"<!doctype html><html lang=en><meta charset=utf-8><title>Sightline report: {site}</title>"
            f"<style>{CSS}</style><h1>Sightline report — site “{site}”, {window.date_from} to {window.date_to}</h1>"
            f"<p class=meta>Generated {esc(meta['generated'])} by embedded ClickHouse (chdb) "
            f"from Kafka at {esc(meta['brokers'])}: "
            f"{meta['records']} records consumed, {meta['rejected']} dead letters.</p>" + "".join(sections) + "</html>")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--brokers", default="127.0.0.1:9092")
    parser.add_argument("--site", default="demo")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--prefix", default="sightline.")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quiet-s", type=float, default=5, help="stop consuming after this long without new records")
    parser.add_argument("--max-wait-s", type=float, default=90)
    args = parser.parse_args(argv)
    out = args.out.resolve()

    db = CACHE / "report-db"
    shutil.rmtree(db, ignore_errors=True)
    engine = Engine(db)
    # A new consumer group per run: the report always reads the topics from the beginning.
    pipeline.start(engine, args.brokers, group=f"clickhouse-report-{int(time.time())}", prefix=args.prefix)
    counts = pipeline.wait_until_quiet(engine, args.quiet_s, args.max_wait_s)
    today = datetime.now(UTC).date()
    window = queries.Window(args.site, today - timedelta(days=args.days), today + timedelta(days=1))
    results = queries.run_all(engine, window)
    meta = {"generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "brokers": args.brokers, **counts}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(results, window, meta))
    engine.close()
    print(f"report: {counts['records']} records → {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
