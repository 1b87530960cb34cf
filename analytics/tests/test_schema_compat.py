"""The ClickHouse schema reads the .proto as it is: every column of the Kafka tables names a
field path of sightline.v1.CollectedEvent / RejectedEvent with a compatible type.

ClickHouse fills a column whose protobuf field is missing with its default, silently, so a
renamed or retyped field would otherwise show up as zeros on a dashboard, not as an error."""

import re
import shutil

import pytest

from sightline_analytics import schema

# protobuf type → ClickHouse types that read it without loss
COMPATIBLE = {
    "TYPE_STRING": {"String"},
    "TYPE_BYTES": {"String"},
    "TYPE_BOOL": {"Bool", "UInt8"},
    "TYPE_INT64": {"Int64"},
    "TYPE_SINT64": {"Int64"},
    "TYPE_UINT64": {"UInt64"},
    "TYPE_INT32": {"Int32", "Int64"},
    "TYPE_SINT32": {"Int32", "Int64"},
    "TYPE_UINT32": {"UInt32", "UInt64"},
    "TYPE_FLOAT": {"Float32", "Float64"},
    "TYPE_DOUBLE": {"Float64"},
    "TYPE_ENUM": {"String"},
}
KAFKA_METADATA = {"kafka_topic", "kafka_partition", "kafka_offset", "kafka_error", "kafka_raw_message"}


def kafka_columns(table: str) -> list[tuple[str, str]]:
    """(name, type) of a Kafka-facing table in schema.sql, Nested expanded to name.sub."""
    sql = schema.render(schema.SchemaSettings.from_env())
    body = re.search(rf"CREATE TABLE IF NOT EXISTS sightline\.{table}\s*\((.*?)\n\)\s*ENGINE", sql, re.DOTALL)
    assert body, f"table {table} not found in schema.sql"
    columns = []
    for line in body.group(1).splitlines():
        line = line.split("--")[0].strip().rstrip(",")
        if not line:
            continue
        name, ctype = line.split(None, 1)
        nested = re.fullmatch(r"Nested\((.*)\)", ctype)
        if nested:
            for part in nested.group(1).split(","):
                sub, subtype = part.split()
                columns.append((f"{name}.{sub}", subtype))
        else:
            columns.append((name, ctype))
    return columns


def resolve(messages, root: str, column: str):
    """The field a column name reads: path segments joined by '_' (or '.') matched greedily
    against field names, as ClickHouse does. Returns (field, repeated_parent) or None."""
    descriptor = messages.descriptor(root)
    rest = column.replace(".", "_")
    field, repeated = None, False
    while rest:
        match = None
        for f in sorted(descriptor.fields, key=lambda f: -len(f.name)):
            if rest == f.name or rest.startswith(f.name + "_"):
                match = f
                break
        if match is None:
            return None
        field = match
        rest = rest[len(match.name) + 1 :]
        if rest:
            if match.message_type is None or match.message_type.GetOptions().map_entry:
                return None
            repeated = repeated or is_repeated(match)
            descriptor = match.message_type
    return field, repeated


def is_repeated(field) -> bool:
    # protobuf >= 6 has is_repeated; older runtimes only label
    if hasattr(field, "is_repeated"):
        return bool(field.is_repeated)
    return field.label == field.LABEL_REPEATED


def mismatches(messages, table, message) -> list[str]:
    from google.protobuf.descriptor import FieldDescriptor

    names = {v: k for k, v in vars(FieldDescriptor).items() if k.startswith("TYPE_")}
    problems = []
    columns = [(n, t) for n, t in kafka_columns(table) if n not in KAFKA_METADATA]
    assert len(columns) > 10
    for name, ctype in columns:
        found = resolve(messages, message, name)
        if found is None:
            problems.append(f"{name}: no field {message}.{name.replace('_', '.')} in the .proto")
            continue
        field, repeated = found
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            entry = field.message_type.fields_by_name
            kv = (names[entry["key"].type], names[entry["value"].type])
            if ctype != "Map(String, String)" or kv != ("TYPE_STRING", "TYPE_STRING"):
                problems.append(f"{name}: proto map<{kv[0]}, {kv[1]}> read as {ctype}")
            continue
        if field.message_type is not None:
            problems.append(f"{name}: a message, not a scalar")
            continue
        want = COMPATIBLE.get(names[field.type], set())
        inner = re.fullmatch(r"Array\((.*)\)", ctype)
        # A repeated field (or one under a repeated parent) is an Array of its type.
        repeated = repeated or is_repeated(field)
        base = ctype if not repeated else (inner.group(1) if inner else ctype)
        if base not in want:
            problems.append(f"{name}: proto {names[field.type]} read as {ctype} (want one of {sorted(want)})")
    return problems


@pytest.mark.parametrize("table,message", [("events_stream", "CollectedEvent"), ("kafka_rejected", "RejectedEvent"),
                                           ("kafka_ad_decisions", "AdDecision")])
def test_every_kafka_column_reads_a_proto_field(messages, table, message):
    problems = mismatches(messages, table, message)
    assert not problems, "schema.sql no longer matches the .proto:\n" + "\n".join(problems)


@pytest.mark.parametrize("old,new,column", [
    ("uint32 dwell_ms = 2;", "uint32 dwell_time_ms = 2;", "event_hover_dwell_ms"),
    ("bool viewable = 12;", "uint32 viewable = 12;", "event_ad_impression_viewable"),
    ("map<string, string> experiments = 7;", "map<string, int64> experiments = 7;", "experiments"),
])
def test_a_changed_proto_breaks_the_check(tmp_path, old, new, column):
    """A copy of the .proto with one field renamed or retyped must make the check fail."""
    from sightline_analytics.paths import PROTO_ROOT
    from sightline_analytics.protos import Messages

    shutil.copytree(PROTO_ROOT / "sightline", tmp_path / "sightline")
    changed = 0
    # collected.proto first: a field of CollectedEvent itself when both files have the text
    for proto in sorted((tmp_path / "sightline" / "v1").glob("*.proto"), key=lambda p: p.name != "collected.proto"):
        text = proto.read_text()
        if old in text:
            proto.write_text(text.replace(old, new, 1))
            changed += 1
            break
    assert changed == 1, f"{old!r} is not in the .proto any more: update this test"
    problems = mismatches(Messages(tmp_path), "events_stream", "CollectedEvent")
    assert any(p.startswith(column + ":") for p in problems), problems


def test_compat_check_catches_a_renamed_field(messages):
    """The check above must be able to fail: a column for a field that does not exist."""
    assert resolve(messages, "CollectedEvent", "event_click_page_x") is not None
    assert resolve(messages, "CollectedEvent", "event_click_page_z") is None
    assert resolve(messages, "CollectedEvent", "identity_traits") is not None


def test_kafka_topics_are_the_contracts_topics():
    sql = schema.render(schema.SchemaSettings.from_env())
    lists = re.findall(r"kafka_topic_list = '([^']*)'", sql)
    read = sorted(t.removeprefix("sightline.") for topics in lists for t in topics.split(","))
    assert read == sorted(schema.topics())


def test_schema_has_no_unfilled_placeholder():
    rendered = schema.render(schema.SchemaSettings.from_env())
    assert "${" not in rendered
