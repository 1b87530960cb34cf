"""Schema on a real Kafka: create the tables, then wait until the consumers have caught up."""

import time

from . import schema


class NotConsumed(RuntimeError):
    """ClickHouse did not consume the expected records in time."""


def start(engine, brokers: str, group: str, prefix: str = "sightline.", flush_ms: int = 500) -> None:
    settings = schema.SchemaSettings.from_env(
        SIGHTLINE_KAFKA_BROKERS=brokers, SIGHTLINE_KAFKA_GROUP=group,
        SIGHTLINE_TOPIC_PREFIX=prefix, SIGHTLINE_KAFKA_FLUSH_MS=flush_ms,
    )
    schema.load(engine, settings)


def consumed(engine) -> dict:
    return {
        # every CollectedEvent-topic record read, decodable or not (events dedups on insert)
        "records": int(engine.scalar("SELECT sum(records) FROM sightline.kafka_ingest") or 0),
        "rejected": int(engine.scalar("SELECT count() FROM sightline.rejected_events")),
    }


def wait_for(engine, expected: dict, timeout_s: float = 90) -> dict:
    """Polls until every counter reaches its expected value."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = consumed(engine)
        if all(now[k] >= v for k, v in expected.items()):
            return now
        time.sleep(0.3)
    raise NotConsumed(f"after {timeout_s} s consumed {consumed(engine)}, expected {expected}")


def wait_until_quiet(engine, quiet_s: float, max_s: float) -> dict:
    """For live data with no known total: consume until nothing new arrived for quiet_s seconds
    (records that keep arriving after max_s are left for the next run)."""
    deadline = time.monotonic() + max_s
    last, changed_at = None, time.monotonic()
    while time.monotonic() < deadline:
        now = consumed(engine)
        if now != last:
            last, changed_at = now, time.monotonic()
        elif time.monotonic() - changed_at >= quiet_s:
            break
        time.sleep(0.3)
    return consumed(engine)
