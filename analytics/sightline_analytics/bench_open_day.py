"""The open-day path of events_by_kind_daily (issue 21), before and after, in one run.

One database per size with the production schema (no Kafka tables) and bench_generate.sql's
history inserted through sightline.events_stream (the views do their production work), every
day open. Then, alternately so both see the same machine load:
  - baseline: distinct ids counted in the raw `events` table (the query before issue 21,
    RAW_OPEN_DAY_SQL below),
  - now: queries/events_by_kind_daily.sql (the events_kind_daily states),
each cold once (ClickHouse caches dropped) and warm WARM_RUNS times. The two must return the same
rows (exactness), else the run fails. Prints one JSON object per size and the ratio of the warm
medians, and writes them all to --out-json (bench_report.py renders it into BENCH.md when it is
there); the database is removed afterwards (they are GBs).

    python -m sightline_analytics.bench_open_day --sizes 5000000,10000000
"""

import argparse
import json
import shutil
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

from . import bench, queries, schema
from .engine import Engine
from .paths import CACHE

RAW_OPEN_DAY_SQL = """
SELECT day, kind, uniqExact(event_id) AS events, uniqExact(user_key) AS users, uniqExact(session_id) AS sessions
FROM sightline.events
WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
  AND day NOT IN (SELECT day FROM sightline.rollup_days FINAL WHERE finalized)
GROUP BY day, kind
ORDER BY day, kind
"""
WARM_RUNS = 5


def timed(engine, sql: str, params: dict) -> tuple[float, list, int]:
    t0 = time.monotonic()
    result = engine.session.query(sql, "JSONEachRow", params=params)
    seconds = time.monotonic() - t0
    rows = [json.loads(line) for line in result.bytes().decode().splitlines() if line.strip()]
    return seconds, rows, int(result.storage_bytes_read())


def measure(engine, window: queries.Window) -> dict:
    now_sql = (queries.QUERIES_DIR / "events_by_kind_daily.sql").read_text()
    paths = {"baseline_raw_events": RAW_OPEN_DAY_SQL, "events_kind_daily_states": now_sql}
    out = {name: {"warm": []} for name in paths}
    results = {}
    for name, sql in paths.items():
        bench.drop_caches(engine)
        seconds, rows, read = timed(engine, sql, window.params())
        out[name].update(cold_s=round(seconds, 4), bytes_read=read, rows=len(rows))
        results[name] = rows
    for _ in range(WARM_RUNS):
        for name, sql in paths.items():
            out[name]["warm"].append(round(timed(engine, sql, window.params())[0], 4))
    if results["baseline_raw_events"] != results["events_kind_daily_states"]:
        raise SystemExit("the states' counts differ from the raw table's: not exact")
    for v in out.values():
        v["warm_median_s"] = statistics.median(v["warm"])
        v["warm_max_s"] = max(v["warm"])
    out["ratio_warm_median"] = round(out["baseline_raw_events"]["warm_median_s"]
                                     / out["events_kind_daily_states"]["warm_median_s"], 1)
    return out


def markdown(run: dict) -> str:
    """The section bench_report.py adds to BENCH.md (as it does ingest.md and dashboard.md)."""
    m = run["machine"]
    lines = [
        "## Open days of events_by_kind_daily (issue 21)",
        "",
        f"`{run['command']}`, {run['started']}, {m['cpus']} cores ({m['cpu_model']}), load {m['load_at_start']:.1f} at start "
        "(the machine is shared: the alternating runs see the same load). Every day open; the baseline is the query "
        "before issue 21 (distinct ids of the raw `events` table), run in the same process on the same data; "
        "both returned the same rows. Warm = 5 runs, alternating.",
        "",
        "| events | open-day path | cold | warm median | warm max | bytes read (as chdb reports it) | table on disk |",
        "|---|---|---|---|---|---|---|",
    ]
    paths = (("baseline_raw_events", "raw `events` (before)"), ("events_kind_daily_states", "`events_kind_daily` states"))
    tables = {"baseline_raw_events": "events", "events_kind_daily_states": "events_kind_daily"}
    for size in run["sizes"]:
        o = size["open_day"]
        disk = {t["table"]: int(t["bytes"]) for t in size["tables"]}
        for name, label in paths:
            r = o[name]
            lines.append(f"| {size['events']:,} | {label} | {r['cold_s']:.2f} s | {r['warm_median_s']:.2f} s | "
                         f"{r['warm_max_s']:.2f} s | {r['bytes_read'] / 1024 / 1024:,.1f} MiB | "
                         f"{disk.get(tables[name], 0) / 1024 / 1024:,.1f} MiB |")
        lines.append(f"| {size['events']:,} | **ratio (warm medians)** | | **{o['ratio_warm_median']} x** | | | |")
    lines += ["", "chdb's bytes-read counter leaves out aggregate-state columns; the states' table size is the bound. "
              "The states cost one 16-byte hash per distinct id of the open days (events, users, sessions), so the "
              "path stays linear in the open days' events, at a constant several times smaller than the raw scan's."]
    return "\n".join(lines) + "\n"


def run_size(events: int, chunk: int, workdir: Path) -> dict:
    db = workdir / f"open-day-{events}"
    shutil.rmtree(db, ignore_errors=True)
    engine = Engine(db)
    try:
        schema.load(engine, schema.SchemaSettings.from_env(), kafka=False)
        generated = bench.generate(engine, events, chunk)
        merge_wait = bench.wait_for_merges(engine, 120)
        parts = engine.rows("SELECT table, sum(rows) AS rows, sum(bytes_on_disk) AS bytes, count() AS parts "
                            "FROM system.parts WHERE active AND database = 'sightline' "
                            "AND table IN ('events', 'events_kind_daily') GROUP BY table ORDER BY table")
        window = queries.Window("demo", bench.BASE_DAY, bench.BASE_DAY + timedelta(days=bench.DAYS - 1))
        return {"events": events, "days_open": bench.DAYS, "generate": generated, "merge_wait_s": merge_wait,
                "tables": parts, "open_day": measure(engine, window)}
    finally:
        engine.close()
        shutil.rmtree(db, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="5000000", help="events per run, comma-separated")
    parser.add_argument("--chunk", type=int, default=5_000_000, help="events per INSERT")
    parser.add_argument("--workdir", type=Path, default=CACHE / "bench-analytics")
    # Beside scripts/bench-analytics.sh's results.json, where bench_report.py looks for it.
    parser.add_argument("--out-json", type=Path, default=CACHE.parent / "bench-analytics" / "open_day.json")
    args = parser.parse_args(argv)
    args.workdir = args.workdir.resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)
    args.out_json.parent.mkdir(parents=True, exist_ok=True)
    run = {"machine": bench.machine(), "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "command": " ".join(["python -m sightline_analytics.bench_open_day", *sys.argv[1:]]), "sizes": []}
    for events in (int(float(s)) for s in args.sizes.split(",")):
        run["sizes"].append(run_size(events, args.chunk, args.workdir))
        print(json.dumps(run["sizes"][-1]), flush=True)
        args.out_json.write_text(json.dumps(run, indent=1))  # a finished size survives a later failure
        args.out_json.with_suffix(".md").write_text(markdown(run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
