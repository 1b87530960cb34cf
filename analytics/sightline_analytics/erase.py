"""Erasure in ClickHouse (issue 18; DPDP Act s.12(3), GDPR Art. 17): delete one person's rows
from every event-level table, then check that none remain.

    python -m sightline_analytics.erase --db PATH --site demo --user-id stu-asha
    python -m sightline_analytics.erase --db PATH --from-topic 127.0.0.1:9092 [--topic sightline.erasures]

Requests come from the arguments or from the compacted erasures topic that `sightline-admin
erase` writes (every request ever made, latest per person: applying them again is harmless).
Deletes are lightweight (`DELETE FROM … WHERE`: rows are hidden at once and dropped by merges).
Aggregate tables hold counts and uniqExact states, never a per-person row, so they are not
touched: a count already made stays (docs/privacy.md says why that is not personal data).

A user id also erases the anonymous ids seen with it (the person's visits before they signed
in): its rows and theirs. Exit status 0 when every request left no row behind, 1 otherwise.
"""

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

# Event-level tables and the columns that identify a person in each, by request kind. The
# `user_key` column is the Kafka key: user id, else anonymous id (persistent), the visitor id
# (cookieless), the page session (restricted).
EVENT_TABLES: dict[str, dict[str, list[str]]] = {
    "events": {
        "user_id": ["user_id", "user_key"],
        "anonymous_id": ["anonymous_id", "user_key"],
        "visitor_id": ["visitor_id", "user_key"],
    },
    "ad_impressions": {"user_id": ["user_key"], "anonymous_id": ["user_key"], "visitor_id": ["user_key"]},
    # Video ad messages (issue 20): one row per message, keyed by the person like ad_impressions.
    "ad_videos": {"user_id": ["user_key"], "anonymous_id": ["user_key"], "visitor_id": ["user_key"]},
    "journey_steps": {"user_id": ["user_key"], "anonymous_id": ["user_key"], "visitor_id": ["user_key"]},
    "enrolments": {"user_id": ["user_key"], "anonymous_id": ["user_key"], "visitor_id": ["user_key"]},
    # The decision log keys only profiled visitors (user id, else anonymous id); a cookieless
    # visitor id is never in it, so that kind matches nothing there.
    "ad_decisions": {"user_id": ["user_key"], "anonymous_id": ["user_key"], "visitor_id": ["user_key"]},
}

ID_KINDS = ("user_id", "anonymous_id", "visitor_id")


class ErasureError(RuntimeError):
    """A request that cannot be applied (bad kind, empty id)."""


@dataclass(frozen=True)
class Request:
    site: str
    id_kind: str
    id: str

    def __post_init__(self) -> None:
        if self.id_kind not in ID_KINDS:
            raise ErasureError(f"id_kind {self.id_kind!r} is not one of {', '.join(ID_KINDS)}")
        if not self.site or not self.id:
            raise ErasureError("site and id must not be empty")

    @classmethod
    def from_json(cls, text: str) -> "Request":
        value = json.loads(text)
        return cls(site=str(value.get("site", "")), id_kind=str(value.get("id_kind", "")), id=str(value.get("id", "")))


def array_param(values: list[str]) -> str:
    """An Array(String) query parameter as chdb takes it: the ClickHouse literal."""
    quoted = ("'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'" for v in values)
    return "[" + ",".join(quoted) + "]"


def _ids(engine, request: Request) -> list[str]:
    """The ids to erase: the one asked for, plus the anonymous ids seen with a user id."""
    ids = [request.id]
    if request.id_kind == "user_id":
        rows = engine.rows(
            "SELECT DISTINCT anonymous_id FROM sightline.events "
            "WHERE site_key = {site:String} AND user_id = {id:String} AND anonymous_id != ''",
            {"site": request.site, "id": request.id},
        )
        ids += sorted(r["anonymous_id"] for r in rows)
    return ids


def _columns(table: str, request: Request) -> list[str]:
    """Columns to match: a user id's request also matches its linked anonymous ids."""
    columns = EVENT_TABLES[table]
    if request.id_kind == "user_id":
        return sorted(set(columns["user_id"]) | set(columns["anonymous_id"]))
    return columns[request.id_kind]


def _where(table: str, request: Request) -> str:
    matches = " OR ".join(f"{c} IN {{ids:Array(String)}}" for c in _columns(table, request))
    return f"site_key = {{site:String}} AND ({matches})"


def remaining(engine, request: Request, ids: list[str] | None = None) -> dict[str, int]:
    """Rows per event-level table that still belong to the request's person."""
    ids = ids if ids is not None else _ids(engine, request)
    counts = {}
    for table in EVENT_TABLES:
        counts[table] = int(engine.scalar(
            f"SELECT count() FROM sightline.{table} WHERE {_where(table, request)}",
            {"site": request.site, "ids": array_param(ids)},
        ))
    return counts


def apply(engine, request: Request) -> dict:
    """Deletes the person's rows from every event-level table and verifies; returns a report."""
    ids = _ids(engine, request)
    before = remaining(engine, request, ids)
    for table in EVENT_TABLES:
        engine.execute(
            f"DELETE FROM sightline.{table} WHERE {_where(table, request)} "
            "SETTINGS lightweight_deletes_sync = 2",
            {"site": request.site, "ids": array_param(ids)},
        )
    after = remaining(engine, request, ids)
    return {"site": request.site, "id_kind": request.id_kind, "id": request.id, "ids": ids,
            "deleted": before, "remaining": after, "ok": not any(after.values())}


def requests_from_topic(brokers: str, topic: str) -> list[Request]:
    from sightline_analytics import kafka_io

    out = kafka_io.run("read-all", brokers, topic)
    return [Request.from_json(json.loads(line)["value"]) for line in out.splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sightline_analytics.erase", description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True, type=Path, help="chdb database directory")
    parser.add_argument("--site")
    ids = parser.add_mutually_exclusive_group()
    ids.add_argument("--user-id")
    ids.add_argument("--anonymous-id")
    ids.add_argument("--visitor-id")
    parser.add_argument("--from-topic", metavar="BROKERS", help="apply every request of the erasures topic")
    parser.add_argument("--topic", default="sightline.erasures")
    args = parser.parse_args(argv)
    requests = []
    for kind in ID_KINDS:
        value = getattr(args, kind)
        if value is not None:
            if not args.site:
                parser.error("--site is required with an id")
            requests.append(Request(args.site, kind, value))
    if args.from_topic:
        requests += requests_from_topic(args.from_topic, args.topic)
    if not requests:
        parser.error("give --site and one id, or --from-topic")
    from sightline_analytics.engine import Engine

    engine = Engine(args.db)
    ok = True
    for request in requests:
        report = apply(engine, request)
        print(json.dumps(report))
        ok = ok and report["ok"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
