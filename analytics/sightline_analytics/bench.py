"""`make bench-analytics`: the analytics at volume, in embedded ClickHouse (chdb).

For each size: a fresh database with the production schema (no Kafka tables), the synthetic
history of clickhouse/bench_generate.sql inserted through sightline.events_stream in chunks (so
every materialized view does its production work), the disk per table, every dashboard query
cold and warm with the days open (the views' uniqExact states) and after finalizing the closed
days into the rollups (rollup.py), and the storage of the same events as raw protobuf and JSON.
Results go to .cache/bench-analytics/results.json; bench_report.py renders analytics/BENCH.md.

    python -m sightline_analytics.bench --sizes 1000000,10000000 --out-json results.json
"""

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from . import queries, rollup, schema
from .engine import Engine, EngineError
from .kinds import KIND_NAMES
from .paths import ANALYTICS, CACHE

GENERATE_SQL = ANALYTICS / "clickhouse" / "bench_generate.sql"
BASE_DAY = date(2026, 11, 1)
DAYS = 7
EVENTS_PER_SESSION = 20  # bench_generate.sql's session layout
WARM_RUNS = 5
# The sample as the collector writes it to Kafka. The Kafka metadata columns have no protobuf
# field; an enum column holds its value's name, and '' (not set) must become the zero value.
SAMPLE_TO_PROTOBUF = """
INSERT INTO FUNCTION file('{path}', 'Protobuf')
SELECT * EXCEPT (kafka_topic, kafka_partition, kafka_offset, kafka_error, kafka_raw_message)
    REPLACE (if(event_page_view_navigation = '', 'NAVIGATION_UNSPECIFIED', event_page_view_navigation)
                 AS event_page_view_navigation,
             if(event_ad_impression_phase = '', 'IMPRESSION_PHASE_UNSPECIFIED', event_ad_impression_phase)
                 AS event_ad_impression_phase,
             if(event_ad_impression_rule = '', 'VIEWABILITY_RULE_UNSPECIFIED', event_ad_impression_rule)
                 AS event_ad_impression_rule,
             if(event_ad_impression_actual_visibility = '', 'ACTUAL_VISIBILITY_UNKNOWN', event_ad_impression_actual_visibility)
                 AS event_ad_impression_actual_visibility,
             if(event_ad_video_event = '', 'VIDEO_EVENT_UNSPECIFIED', event_ad_video_event) AS event_ad_video_event,
             if(event_ad_video_player_size = '', 'PLAYER_SIZE_UNSPECIFIED', event_ad_video_player_size)
                 AS event_ad_video_player_size,
             if(source = '', 'EVENT_SOURCE_UNSPECIFIED', source) AS source,
             if(device_device_class = '', 'DEVICE_CLASS_UNSPECIFIED', device_device_class) AS device_device_class,
             if(privacy_mode = '', 'PRIVACY_MODE_UNSPECIFIED', privacy_mode) AS privacy_mode,
             if(consent_measurement = '', 'CONSENT_STATE_UNSPECIFIED', consent_measurement) AS consent_measurement,
             if(consent_personalization = '', 'CONSENT_STATE_UNSPECIFIED', consent_personalization)
                 AS consent_personalization,
             if(consent_storage = '', 'CONSENT_STATE_UNSPECIFIED', consent_storage) AS consent_storage,
             if(consent_source = '', 'CONSENT_SOURCE_UNSPECIFIED', consent_source) AS consent_source)
FROM sightline.bench_sample
SETTINGS format_schema = 'sightline/v1/collected.proto:CollectedEvent', engine_file_truncate_on_insert = 1
"""
# The tables holding data, in the order of the data flow (views write into these).
TABLES = ["events", "ad_impressions", "journey_steps", "ad_ctr_daily", "ad_heatmap_daily", "ab_ctr_daily",
          "kafka_ingest", "ad_ctr_rollup", "ad_heatmap_rollup", "ab_ctr_rollup", "events_kind_rollup", "rollup_days"]


def users_for(events: int) -> int:
    """Distinct students: one per 100 events (the Zipf-like activity concentrates on a few)."""
    return max(1000, events // 100)


def generate(engine, events: int, chunk: int) -> dict:
    """Inserts events 0…events-1 in chunks (a chunk is one INSERT, like a Kafka engine block
    of kafka_max_block_size rows, only larger); returns timings."""
    sql = GENERATE_SQL.read_text()
    chunk -= chunk % EVENTS_PER_SESSION  # whole sessions per chunk
    started, first, chunks = time.monotonic(), 0, 0
    while first < events:
        count = min(chunk, events - first)
        engine.execute(sql, {"first": first, "count": count, "users": users_for(events), "days": DAYS,
                             "base_day": BASE_DAY.isoformat()})
        first += count
        chunks += 1
        elapsed = time.monotonic() - started
        print(f"  generated {first:,} / {events:,} events in {elapsed:.0f} s ({first / elapsed:,.0f} events/s)", flush=True)
    seconds = time.monotonic() - started
    return {"seconds": round(seconds, 1), "events_per_s": round(events / seconds), "chunks": chunks}


def wait_for_merges(engine, limit_s: float) -> float:
    """Background merges after the inserts (production has them too); waits until none runs."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        if int(engine.scalar("SELECT count() FROM system.merges WHERE database = 'sightline'")) == 0:
            break
        time.sleep(1)
    return round(time.monotonic() - started, 1)


def storage(engine, events: int) -> dict:
    rows = engine.rows(
        "SELECT table, sum(rows) AS rows, sum(bytes_on_disk) AS disk, sum(data_uncompressed_bytes) AS raw, "
        "count() AS parts FROM system.parts WHERE active AND database = 'sightline' GROUP BY table")
    by = {r["table"]: r for r in rows}
    out = {}
    for t in TABLES:
        r = by.get(t, {"rows": 0, "disk": 0, "raw": 0, "parts": 0})
        out[t] = {"rows": int(r["rows"]), "bytes": int(r["disk"]), "uncompressed": int(r["raw"]), "parts": int(r["parts"]),
                  "bytes_per_event": round(int(r["disk"]) / events, 2)}
    total = sum(v["bytes"] for v in out.values())
    out["total"] = {"bytes": total, "bytes_per_event": round(total / events, 2)}
    return out


def drop_caches(engine) -> None:
    """ClickHouse's own caches. The OS page cache is shared with other users of this machine
    and is left alone, so 'cold' means cold ClickHouse caches, warm page cache."""
    for cache in ("MARK CACHE", "UNCOMPRESSED CACHE", "QUERY CACHE", "MMAP CACHE"):
        with contextlib.suppress(EngineError):  # a cache this build does not have
            engine.execute(f"SYSTEM DROP {cache}")


def timed_query(engine, name: str, window: queries.Window) -> dict:
    sql = (queries.QUERIES_DIR / f"{name}.sql").read_text()
    t0 = time.monotonic()
    result = engine.session.query(sql, "JSONEachRow", params=window.params())
    seconds = time.monotonic() - t0
    return {"s": seconds, "rows_read": int(result.storage_rows_read()), "bytes_read": int(result.storage_bytes_read()),
            "result_rows": int(result.rows_read())}


def measure_queries(engine, window: queries.Window) -> dict:
    out = {}
    for name in queries.names():
        drop_caches(engine)
        cold = timed_query(engine, name, window)
        warm = [timed_query(engine, name, window) for _ in range(WARM_RUNS)]
        times = [w["s"] for w in warm]
        out[name] = {"cold_s": round(cold["s"], 4), "warm_median_s": round(statistics.median(times), 4),
                     "warm_max_s": round(max(times), 4), "rows_read": warm[-1]["rows_read"],
                     "bytes_read": warm[-1]["bytes_read"], "result_rows": warm[-1]["result_rows"]}
        print(f"  {name}: cold {out[name]['cold_s']:.3f} s, warm median {out[name]['warm_median_s']:.3f} s, "
              f"{out[name]['rows_read']:,} rows / {out[name]['bytes_read']:,} bytes read", flush=True)
    return out


def wire_sizes(engine, workdir: Path, sample: int) -> dict:
    """The first `sample` events as the collector's Kafka payload (length-delimited
    CollectedEvent protobuf, record layout v2) and as proto3 JSON (defaults omitted), per event."""
    from google.protobuf import json_format
    from google.protobuf.internal.decoder import _DecodeVarint

    from .protos import Messages

    engine.execute("CREATE TABLE IF NOT EXISTS sightline.bench_sample AS sightline.events_stream "
                   "ENGINE = MergeTree ORDER BY tuple()")
    engine.execute("TRUNCATE TABLE sightline.bench_sample")
    sql = GENERATE_SQL.read_text().replace("INSERT INTO sightline.events_stream", "INSERT INTO sightline.bench_sample", 1)
    engine.execute(sql, {"first": 0, "count": sample, "users": users_for(sample), "days": DAYS, "base_day": BASE_DAY.isoformat()})
    pb = workdir / "sample.pb"
    pb.unlink(missing_ok=True)
    # Kafka metadata columns have no protobuf field; ClickHouse leaves unmatched columns out.
    engine.execute(SAMPLE_TO_PROTOBUF.format(path=pb))
    data = pb.read_bytes()
    messages = Messages()
    cls = messages.CollectedEvent
    kind_numbers = {name: messages.enum_value("EventKind", f"EVENT_KIND_{name.upper()}") for name in KIND_NAMES}
    pos, count, json_bytes = 0, 0, 0
    while pos < len(data):
        size, pos = _DecodeVarint(data, pos)
        msg = cls.FromString(data[pos:pos + size])
        pos += size
        payload = msg.event.WhichOneof("kind")
        if payload is None or msg.kind != kind_numbers[payload]:
            raise RuntimeError(f"event {count} of the protobuf sample: kind {msg.kind} but payload {payload}")
        count += 1
        json_bytes += len(json_format.MessageToJson(msg, indent=None).encode()) + 1  # one JSON line each
    if count != sample:
        raise RuntimeError(f"protobuf sample holds {count} events, expected {sample}")
    engine.execute("DROP TABLE sightline.bench_sample")
    return {"sample_events": sample, "protobuf_bytes_per_event": round(len(data) / sample, 2),
            "json_bytes_per_event": round(json_bytes / sample, 2)}


def machine() -> dict:
    mem = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0)
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    import chdb

    return {"cpus": os.cpu_count(), "cpu_model": cpu, "memory_gib": round(mem / 1024 / 1024, 1),
            "kernel": platform.release(), "chdb": chdb.__version__, "load_at_start": os.getloadavg()[0]}


def run_size(events: int, chunk: int, workdir: Path, keep: bool) -> dict:
    db = workdir / f"db-{events}"
    shutil.rmtree(db, ignore_errors=True)
    engine = Engine(db)
    print(f"\n== {events:,} events", flush=True)
    try:
        schema.load(engine, schema.SchemaSettings.from_env(), kafka=False)
        result = {"events": events, "users": users_for(events), "days": DAYS, "generate": generate(engine, events, chunk)}
        result["merge_wait_s"] = wait_for_merges(engine, 120)
        result["storage"] = storage(engine, events)
        window = queries.Window("demo", BASE_DAY, BASE_DAY + timedelta(days=DAYS - 1))
        print("  queries with every day open (uniqExact states):", flush=True)
        result["open"] = measure_queries(engine, window)
        t0 = time.monotonic()
        days = rollup.finalize_through(engine, BASE_DAY + timedelta(days=DAYS - 1))
        result["finalize"] = {"days": len(days), "seconds": round(time.monotonic() - t0, 2)}
        print(f"  finalized {len(days)} days in {result['finalize']['seconds']} s; queries on the rollups:", flush=True)
        result["finalized"] = measure_queries(engine, window)
        result["storage_after_finalize"] = storage(engine, events)
        result["sample"] = {n: queries.run(engine, n, window)[:3] for n in ("ctr_by_college_cohort", "ab_ctr_significance",
                                                                         "funnel_search_course_ad_click")}
        return result
    finally:
        engine.close()
        if not keep:
            shutil.rmtree(db, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000,10000000,50000000", help="events per run, comma-separated")
    parser.add_argument("--chunk", type=int, default=5_000_000, help="events per INSERT")
    parser.add_argument("--sample", type=int, default=100_000, help="events for the protobuf / JSON comparison")
    parser.add_argument("--workdir", type=Path, default=CACHE / "bench-analytics")
    parser.add_argument("--out-json", type=Path, default=CACHE / "bench-analytics" / "results.json")
    parser.add_argument("--keep", action="store_true", help="keep each size's database")
    parser.add_argument("--append", action="store_true",
                        help="add these sizes to the sizes already in --out-json (a second run; BENCH.md lists each run)")
    args = parser.parse_args(argv)
    args.workdir = args.workdir.resolve()
    args.out_json = args.out_json.resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)
    args.out_json.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    run = {"machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "sizes": args.sizes, "command": " ".join(sys.argv)}
    results = {"runs": [], "sizes": []}
    if args.append and args.out_json.exists():
        results = json.loads(args.out_json.read_text())
        results.setdefault("runs", [{k: results[k] for k in ("machine", "started") if k in results}])
    results["runs"].append(run)
    results.update(machine=run["machine"], started=run["started"])
    for events in (int(float(s)) for s in args.sizes.split(",")):
        results["sizes"].append(run_size(events, args.chunk, args.workdir, args.keep))
        results["sizes"].sort(key=lambda r: r["events"])
        args.out_json.write_text(json.dumps(results, indent=1, default=str))  # a finished size survives a later failure
    engine = Engine(args.workdir / "db-wire")
    try:
        schema.load(engine, schema.SchemaSettings.from_env(), kafka=False)
        results["wire"] = wire_sizes(engine, args.workdir, args.sample)
    finally:
        engine.close()
        shutil.rmtree(args.workdir / "db-wire", ignore_errors=True)
    run["total_s"] = round(time.monotonic() - started, 1)
    results["total_s"] = run["total_s"]
    args.out_json.write_text(json.dumps(results, indent=1, default=str))
    print(f"\nbench-analytics: {len(results['sizes'])} sizes in {results['total_s']} s → {args.out_json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
