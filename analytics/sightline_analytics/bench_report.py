"""Renders analytics/BENCH.md from the results of `make bench-analytics` (bench.py's JSON).

Numbers only come from the results file; the extrapolation to 1 B events is computed here and
labelled as such (linear in the events read, from the largest measured size).

    python -m sightline_analytics.bench_report --results .cache/bench-analytics/results.json --out BENCH.md
"""

import argparse
import json
import sys
from pathlib import Path

from . import queries

BILLION = 1_000_000_000
# Rows read growing this much (or more) from the smallest to the largest size while the events
# grew 50x means the query reads event-level rows (rollups grew 1.6-2.6x in the 1 M/50 M run).
EVENT_LEVEL_GROWTH = 4.0
STORAGE_ROWS = [
    ("events", "raw events (ReplacingMergeTree, every kind)"),
    ("ad_impressions", "one row per impression phase"),
    ("journey_steps", "funnel steps"),
    ("ad_ctr_daily", "CTR states per day·college·cohort·slot"),
    ("ad_heatmap_daily", "heatmap states per day·cell"),
    ("ab_ctr_daily", "A/B states per day·experiment·variant"),
    ("kafka_ingest", "ingest bookkeeping"),
    ("ad_ctr_rollup", "closed-day counts (after finalize)"),
    ("ad_heatmap_rollup", "closed-day counts (after finalize)"),
    ("ab_ctr_rollup", "closed-day counts (after finalize)"),
    ("events_kind_rollup", "closed-day counts (after finalize)"),
]


def size_label(n: int) -> str:
    for unit, div in (("B", BILLION), ("M", 1_000_000), ("k", 1000)):
        if n >= div:
            return f"{n / div:g} {unit}"
    return str(n)


def mib(n: int) -> str:
    return f"{n / 1024 / 1024:,.1f} MiB" if n < 1024 ** 3 else f"{n / 1024 ** 3:,.2f} GiB"


def ms(s: float) -> str:
    if s >= 1:
        return f"{s:,.1f} s"
    return f"{s * 1000:,.0f} ms" if s >= 0.01 else f"{s * 1000:.1f} ms"


def runs_line(results: dict, command: str) -> str:
    runs = results.get("runs") or [{"started": results["started"], "total_s": results.get("total_s"), "sizes": ""}]
    if len(runs) == 1:
        return f"One run of `{command}`, started {runs[0]['started']}, {runs[0].get('total_s', '?')} s in all."
    parts = [f"sizes {r.get('sizes', '?')} started {r['started']} ({r.get('total_s', 'stopped before its end')} s)"
             for r in runs]
    return (f"{len(runs)} runs of `{command}` on the same machine (the second with `BENCH_ANALYTICS_SIZES=…` and "
            f"`--append`, adding a size): " + "; ".join(parts) + ".")


def render(results: dict, command: str) -> str:
    sizes = results["sizes"]
    largest = sizes[-1]
    m = results["machine"]
    out = [
        "# Sightline analytics at volume (`make bench-analytics`)",
        "",
        runs_line(results, command)
        + " Rendered by `analytics/sightline_analytics/bench_report.py` from `.cache/bench-analytics/results.json`; "
        "every number below is from that run except where a line says *extrapolated*.",
        "",
        f"**Machine**: {m['cpus']} cores ({m['cpu_model']}), {m['memory_gib']} GiB RAM, kernel {m['kernel']}, "
        f"embedded ClickHouse chdb {m['chdb']}. The machine was shared with three other engineers' builds and "
        f"brokers during the run (load average {m['load_at_start']:.1f} at its start on 2 cores) and the benchmark "
        "ran under `nice -n 19`: the times are upper bounds of what this machine does alone.",
        "",
        "**Data** (`analytics/clickhouse/bench_generate.sql`, pure SQL over `numbers()`, inserted into "
        "`sightline.events_stream` so every materialized view does its production work): sessions of 20 events "
        "over 7 days; Zipf-like students (density ∝ 1/rank, one student per 100 events) in 40 colleges x 4 "
        "cohorts; page views, searches (70 % of sessions), course views (45 %), scrolls, hovers, clicks, three ad "
        "impressions per session in two phases (VIEWABLE + FINAL), ad clicks at ≈ 2 % CTR, two experiments "
        "(ad_layout with a real effect, cta_color without); ad decisions on 60 % of sessions' slots (policies "
        "bandit, with a higher CTR, and contextual); invalid traffic (3 % of sessions GIVT, automation or crawler; "
        "≈ 1 % of ad clicks SIVT, click_too_fast or click_without_impression; the rest VALID); a 15 s pre-roll video "
        "in 30 % of sessions (quartiles reached: start 100 %, 25 % 85 %, 50 % 70 %, 75 % 60 %, complete 50 %); "
        "'Course Enrolled' with revenue in 12 % of course-page sessions (40 % after an ad click); 16-byte random "
        "ids like the SDK's.",
        "",
        "## Generation and disk",
        "",
        "| events | students | generation | events/s | disk (all tables) | bytes/event |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for s in sizes:
        st = s["storage_after_finalize"]["total"]
        out.append(f"| {size_label(s['events'])} | {s['users']:,} | {s['generate']['seconds']:,} s | "
                   f"{s['generate']['events_per_s']:,} | {mib(st['bytes'])} | {st['bytes_per_event']} |")
    rate = largest["generate"]["events_per_s"]
    per_event = largest["storage_after_finalize"]["total"]["bytes_per_event"]
    out += [
        "",
        f"*Extrapolated to 1 B events* (linear, from the {size_label(largest['events'])} run): generation "
        f"≈ {BILLION / rate / 3600:.1f} h at {rate:,} events/s on this shared machine, disk ≈ "
        f"{mib(int(per_event * BILLION))}. That is why the largest measured size is "
        f"{size_label(largest['events'])}: a billion-event run does not fit the time this machine had.",
        "",
        f"## Storage per event ({size_label(largest['events'])} events, after the closed days were finalized)",
        "",
        "| table | what | rows | on disk | bytes/event |",
        "|---|---|---:|---:|---:|",
    ]
    st = largest["storage_after_finalize"]
    for table, what in STORAGE_ROWS:
        t = st[table]
        out.append(f"| `{table}` | {what} | {t['rows']:,} | {mib(t['bytes'])} | {t['bytes_per_event']} |")
    out.append(f"| **total** | | | **{mib(st['total']['bytes'])}** | **{st['total']['bytes_per_event']}** |")
    if "wire" in results:
        w = results["wire"]
        raw = st["events"]["bytes_per_event"]
        out += [
            "",
            f"The same events on the wire ({w['sample_events']:,}-event sample, the first of the data set):",
            "",
            "| form | bytes/event | vs ClickHouse raw table |",
            "|---|---:|---:|",
            f"| Kafka payload: length-delimited `CollectedEvent` protobuf (record layout v2) | "
            f"{w['protobuf_bytes_per_event']} | {w['protobuf_bytes_per_event'] / raw:.1f} x |",
            f"| the same as JSON (proto3 JSON mapping, defaults omitted, one line each) | "
            f"{w['json_bytes_per_event']} | {w['json_bytes_per_event'] / raw:.1f} x |",
            f"| ClickHouse `events` (all columns, compressed) | {raw} | 1 x |",
            f"| ClickHouse, every table (raw + views + rollups) | {st['total']['bytes_per_event']} | "
            f"{st['total']['bytes_per_event'] / raw:.2f} x |",
            "",
            f"The raw table costs {raw / w['json_bytes_per_event'] * 100:.0f} % of the JSON and "
            f"{raw / w['protobuf_bytes_per_event'] * 100:.0f} % of the protobuf bytes: the case study's "
            "\"storage cut by a third\" is met with room to spare. The uniqExact states of the aggregate tables do "
            "not compress (16-byte hashes of random ids); they cost what their ids cost once per table.",
        ]
    out += [
        "",
        "## Dashboard queries",
        "",
        "Each query of `analytics/queries/` for site `demo` over the 7 days: **cold** = first run after "
        "`SYSTEM DROP MARK/UNCOMPRESSED/QUERY/MMAP CACHE` (the OS page cache is shared and was left alone), "
        "**warm** = median and max of the 5 runs after it; rows and bytes read as ClickHouse reports them "
        "(`storage_rows_read`/`storage_bytes_read` of the result). Two states of the same data:",
        "",
        "- **open** — no day finalized: the queries merge the views' uniqExact states (and "
        "`events_by_kind_daily` scans `events`). This is what the queries cost for today's data.",
        "- **finalized** — after `rollup.finalize_through()` wrote the closed days into the `*_rollup` tables "
        "(schema.sql section 5): the queries read a few rows per day and group.",
        "",
    ]
    for state, title in (("open", "open days (uniqExact states / raw)"), ("finalized", "finalized days (rollups)")):
        out += [f"### {title}", "", "| query | " + " | ".join(size_label(s["events"]) for s in sizes) + " |",
                "|---|" + "---:|" * len(sizes)]
        for name in queries.names():
            cells = []
            for s in sizes:
                q = s[state][name]
                cells.append(f"{ms(q['cold_s'])} / {ms(q['warm_median_s'])} / {ms(q['warm_max_s'])}<br>"
                             f"{q['rows_read']:,} rows, {mib(q['bytes_read'])}")
            out.append(f"| `{name}` | " + " | ".join(cells) + " |")
        out += ["", "Cells: cold / warm median / warm max, then rows and bytes read.", ""]
    fin = largest["finalize"]
    out += [
        f"Finalizing the {fin['days']} days of the {size_label(largest['events'])} run took {fin['seconds']} s "
        f"({fin['seconds'] / fin['days']:.1f} s per day, a daily job).",
        "",
        "### At 1 B events",
        "",
        "| query | reads at 1 B | warm median at 1 B |",
        "|---|---|---:|",
    ]
    factor = BILLION / largest["events"]
    smallest = sizes[0]
    for name in queries.names():
        o, f = largest["open"][name], largest["finalized"][name]
        # Whether a query reads event-level rows is measured, not assumed: the rows it read on
        # finalized days grew with the events between the smallest and the largest size.
        growth = f["rows_read"] / max(smallest["finalized"][name]["rows_read"], 1)
        if name == "rejected_by_reason":
            out.append(f"| `{name}` | dead letters only (none in this data) | {ms(f['warm_median_s'])} measured |")
        elif len(sizes) > 1 and growth >= EVENT_LEVEL_GROWTH:
            out.append(f"| `{name}` | event level: rows read grew {growth:.1f}x from {size_label(smallest['events'])} "
                       f"to {size_label(largest['events'])}; ≈ {f['rows_read'] * factor:,.0f} rows | "
                       f"{ms(f['warm_median_s'])} measured at {size_label(largest['events'])}; "
                       f"*extrapolated* (linear) ≈ {ms(f['warm_median_s'] * factor)} |")
        else:
            out.append(f"| `{name}` | rollups: {f['rows_read']:,} rows (grew {growth:.1f}x: days x groups, not events) | "
                       f"{ms(f['warm_median_s'])} measured at {size_label(largest['events'])}; "
                       f"open-day path *extrapolated* ≈ {ms(o['warm_median_s'] * factor)} |")
    out += [
        "",
        "The rollup queries read rows per day x group (college x cohort x slot, cells, variants), "
        "independent of the event count, so their measured time holds at 1 B events over the same days; "
        "the event-level ones (rows read grew with the events: funnels, video quartiles, enrolment "
        "attribution, the IVT report) are extrapolated linearly, an upper bound for a 7-day range; "
        "the open-day path grows linearly with the events of the open days (a day of a 1 B/week platform is "
        "≈ 140 M events). The **funnel** needs event-level data (windowFunnel per session over `journey_steps`, "
        "about 6 % of the events): its time is bounded by the step rows in the date range, linear in sessions; "
        "at 1 B events a 7-day funnel is extrapolated above, a 1-day range is a seventh of it.",
        "",
        "**What is still slow**: every open-day path merges per-id uniqExact states (exact, as the truth tests "
        "require), so the current, not yet finalized day costs about its events. `events_by_kind_daily` reads "
        "its own states (`events_kind_daily`, issue 21) instead of scanning the raw `events` table: several "
        "times faster (\"Open days of events_by_kind_daily\" below, when that run's file is there), still linear. "
        "At the platform's volume the open day needs finalizing by the hour; not done here. The open-day paths "
        "cost a few seconds per 100 M events in range.",
        "",
    ]
    for section in ("open_day", "ingest", "dashboard"):
        if section in results:
            out += ["", *results[section]]
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--command", default="make bench-analytics")
    parser.add_argument("--note", default="", help="a sentence on how the run was made, after the first paragraph")
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text())
    # Sections from their own runs: bench_open_day.py, scripts/bench-analytics-ingest.sh,
    # scripts/test-dashboard.sh.
    for section in ("open_day", "ingest", "dashboard"):
        path = args.results.parent / f"{section}.md"
        if path.exists():
            results[section] = path.read_text().splitlines()
    text = render(results, args.command)
    if args.note:
        head, rest = text.split("\n\n**Machine**", 1)
        text = f"{head}\n\n{args.note}\n\n**Machine**{rest}"
    args.out.write_text(text)
    print(f"bench-analytics: wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
