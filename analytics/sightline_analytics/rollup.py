"""Closed-day rollups (schema.sql section 5): finalize a UTC day's exact counts into plain-number
tables so dashboard queries stop merging per-id states for it.

In production a scheduler runs `python -m sightline_analytics.rollup --through YYYY-MM-DD`
(or clickhouse-client on clickhouse/finalize_day.sql) once a day, for the days past the
late-arrival grace; running it again for a day after a late replay is safe (newer version wins).
"""

import argparse
import sys
import time
from datetime import UTC, date, datetime, timedelta

from . import schema
from .paths import ANALYTICS

FINALIZE_SQL = ANALYTICS / "clickhouse" / "finalize_day.sql"


def finalize(engine, day: date, version: int | None = None) -> None:
    """Writes the rollups of `day` and marks it; the mark comes last (see finalize_day.sql)."""
    params = {"day": day.isoformat(), "version": version if version is not None else time.time_ns() // 1_000_000}
    for stmt in schema.statements(FINALIZE_SQL.read_text()):
        engine.execute(stmt, params)


def reopen(engine, day: date) -> None:
    """Queries read `day` from the states again (e.g. before a large backfill of that day)."""
    engine.execute("INSERT INTO sightline.rollup_days SELECT {day:Date}, false, {version:UInt64}",
                   {"day": day.isoformat(), "version": time.time_ns() // 1_000_000})


def days_with_data(engine) -> list[date]:
    # The ORDER BY must wrap the union: inside it, it would sort the second SELECT only.
    rows = engine.rows("SELECT day FROM (SELECT DISTINCT day FROM sightline.ad_ctr_daily UNION DISTINCT "
                       "SELECT DISTINCT day FROM sightline.events) ORDER BY day")
    return [date.fromisoformat(r["day"]) for r in rows]


def finalized_days(engine) -> list[date]:
    rows = engine.rows("SELECT day FROM sightline.rollup_days FINAL WHERE finalized ORDER BY day")
    return [date.fromisoformat(r["day"]) for r in rows]


def finalize_through(engine, last: date) -> list[date]:
    """Finalizes every day with data up to and including `last`; returns them."""
    days = [d for d in days_with_data(engine) if d <= last]
    for d in days:
        finalize(engine, d)
    return days


def main(argv=None) -> int:
    from .engine import Engine
    from .paths import CACHE

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=str(CACHE / "report-db"), help="chdb database directory")
    parser.add_argument("--through", type=date.fromisoformat,
                        default=datetime.now(UTC).date() - timedelta(days=2), help="last day to finalize (default: 2 days ago)")
    args = parser.parse_args(argv)
    from pathlib import Path

    engine = Engine(Path(args.db))
    done = finalize_through(engine, args.through)
    print(f"rollup: finalized {len(done)} days: {', '.join(d.isoformat() for d in done)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
