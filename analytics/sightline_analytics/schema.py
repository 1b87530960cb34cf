"""Renders analytics/clickhouse/schema.sql (envsubst placeholders) and loads it into ClickHouse."""

import os
import re
from dataclasses import dataclass, field

from .paths import SCHEMA_SQL, TOPICS_FILE

DEFAULTS = {
    "SIGHTLINE_KAFKA_BROKERS": "127.0.0.1:9092",
    "SIGHTLINE_KAFKA_GROUP": "clickhouse-sightline",
    "SIGHTLINE_TOPIC_PREFIX": "sightline.",
    "SIGHTLINE_KAFKA_CONSUMERS": "1",
    "SIGHTLINE_KAFKA_FLUSH_MS": "7500",
    "SIGHTLINE_KAFKA_MAX_BLOCK_SIZE": "65536",
    "SIGHTLINE_RAW_TTL_DAYS": "90",
    "SIGHTLINE_AGG_TTL_DAYS": "730",
    "SIGHTLINE_ERROR_TTL_DAYS": "14",
    "SIGHTLINE_SEARCH_TTL_DAYS": "30",
    # Record layout v2 (collector routing.records = per_batch or per_kind); ProtobufSingle for
    # per_event (layout v1). proto/README.md, "Kafka record contract".
    "SIGHTLINE_KAFKA_FORMAT": "Protobuf",
}

PLACEHOLDER = re.compile(r"\$\{([A-Z_]+)\}")


class SchemaError(RuntimeError):
    """The schema template could not be rendered or loaded."""


@dataclass
class SchemaSettings:
    values: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides) -> "SchemaSettings":
        values = {k: os.environ.get(k, v) for k, v in DEFAULTS.items()}
        values.update({k: str(v) for k, v in overrides.items()})
        return cls(values)


def render(settings: SchemaSettings, text: str | None = None) -> str:
    text = SCHEMA_SQL.read_text() if text is None else text

    def substitute(match: re.Match) -> str:
        name = match.group(1)
        if name not in settings.values:
            raise SchemaError(f"schema.sql uses ${{{name}}}, which has no value or default")
        return settings.values[name]

    return PLACEHOLDER.sub(substitute, text)


def statements(sql: str) -> list[str]:
    """Splits on ';' at line ends, dropping comment-only chunks (the schema has no ';' in strings)."""
    out = []
    for chunk in re.split(r";\s*\n", sql):
        body = "\n".join(line for line in chunk.splitlines() if not line.strip().startswith("--")).strip()
        if body:
            out.append(body.rstrip(";"))
    return out


def created_name(statement: str) -> str | None:
    m = re.search(r"CREATE\s+(?:MATERIALIZED\s+)?(?:TABLE|VIEW|DATABASE)\s+IF\s+NOT\s+EXISTS\s+([\w.]+)", statement)
    return m.group(1) if m else None


def topics() -> list[str]:
    lines = TOPICS_FILE.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def load(engine, settings: SchemaSettings, kafka: bool = True) -> list[str]:
    """Creates every object; returns their names. Kafka tables are created last-in-line by order
    of the file, and their materialized views start consuming as soon as they exist.
    kafka=False leaves out the Kafka tables and the views reading them: a backfill or the
    analytics benchmark inserts into sightline.events_stream itself."""
    names, skipped = [], set()
    for stmt in statements(render(settings)):
        name = created_name(stmt)
        if not kafka and ("ENGINE = Kafka" in stmt or any(re.search(rf"FROM\s+{re.escape(s)}\b", stmt) for s in skipped)):
            skipped.add(name)
            continue
        if "ENGINE = Kafka" in stmt:
            engine.create_kafka_table(stmt, name)
        else:
            engine.execute(stmt)
        if name:
            names.append(name)
    return names
