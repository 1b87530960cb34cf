"""A database for the dashboard's browser test and for trying the dashboard at volume: the
synthetic history of `make bench-analytics` (clickhouse/bench_generate.sql, through the
production fan-out), every day but the last finalized into the rollups — as in production,
where today is still open. Reused when it already holds the requested number of events built
by the same schema, generator and rollup SQL (a changed file rebuilds it).

    python -m sightline_analytics.dashboard_fixture --events 1000000 --db .cache/dashboard-test/db
"""

import argparse
import hashlib
import sys
import time
from datetime import timedelta
from pathlib import Path

from . import bench, rollup, schema
from .engine import Engine
from .paths import SCHEMA_SQL


def _identity(events: int) -> str:
    """What the database is built from: the event count and a digest of the SQL that shapes it."""
    digest = hashlib.sha256()
    for path in (SCHEMA_SQL, bench.GENERATE_SQL, rollup.FINALIZE_SQL):
        digest.update(path.read_bytes())
    return f"{events} {digest.hexdigest()[:16]}"


def build(db: Path, events: int, chunk: int) -> dict:
    marker = db / "sightline-events.txt"
    identity = _identity(events)
    if marker.exists() and marker.read_text().strip() == identity:
        return {"events": events, "reused": True}
    import shutil

    shutil.rmtree(db, ignore_errors=True)
    engine = Engine(db)
    try:
        schema.load(engine, schema.SchemaSettings.from_env(), kafka=False)
        t0 = time.monotonic()
        bench.generate(engine, events, chunk)
        last = bench.BASE_DAY + timedelta(days=bench.DAYS - 1)
        rollup.finalize_through(engine, last - timedelta(days=1))
        seconds = round(time.monotonic() - t0, 1)
    finally:
        engine.close()
    marker.write_text(f"{identity}\n")
    return {"events": events, "reused": False, "seconds": seconds}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=5_000_000)
    parser.add_argument("--db", type=Path, required=True)
    args = parser.parse_args(argv)
    print(f"dashboard fixture: {build(args.db.resolve(), args.events, args.chunk)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
