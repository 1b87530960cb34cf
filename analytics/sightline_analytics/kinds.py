"""Event kinds by name, with their Kafka topic suffixes: read from proto/kinds.json, which
`make docs` generates from event.proto (enum EventKind) and sightline-proto, and which
`cargo test -p sightline-proto` and tests/test_kinds.py check. Use these, never a list of
names written out again."""

import json

from .paths import PROTO_ROOT

_TABLE = json.loads((PROTO_ROOT / "kinds.json").read_text())

# Every event kind's name in enum order: `page_view`, … — also its Event.kind oneof field.
KIND_NAMES: tuple[str, ...] = tuple(k["name"] for k in _TABLE["kinds"])
# Kind name → topic suffix (`page_view` → `page_views`).
TOPIC_SUFFIX: dict[str, str] = {k["name"]: k["topic_suffix"] for k in _TABLE["kinds"]}
# Dead-letter and hot-user overflow topic suffixes.
EVENTS_SUFFIX: str = _TABLE["special_topic_suffixes"]["events"]
REJECTED_SUFFIX: str = _TABLE["special_topic_suffixes"]["rejected"]
OVERFLOW_SUFFIX: str = _TABLE["special_topic_suffixes"]["overflow"]


def checked(kind: str) -> str:
    """`kind` if it is an event kind's name; a ValueError naming the kinds otherwise."""
    if kind not in KIND_NAMES:
        raise ValueError(f"unknown event kind {kind!r}; expected one of {', '.join(KIND_NAMES)}")
    return kind
