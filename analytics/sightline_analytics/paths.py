"""Where the analytics files live, so every module finds them the same way."""

from pathlib import Path

ANALYTICS = Path(__file__).resolve().parent.parent
REPO = ANALYTICS.parent
PROTO_ROOT = REPO / "proto"
PROTO_FILES = sorted((PROTO_ROOT / "sightline" / "v1").glob("*.proto"))
TOPICS_FILE = PROTO_ROOT / "topics.txt"
SCHEMA_SQL = ANALYTICS / "clickhouse" / "schema.sql"
QUERIES_DIR = ANALYTICS / "queries"
CACHE = REPO / ".cache" / "analytics"
