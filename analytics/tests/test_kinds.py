"""proto/kinds.json (what Python and JavaScript read for kind names) agrees with the .proto as
protoc compiles it: one kind per EventKind value, named like its value and its Event.kind
field, each on a topic that scripts/kafka.sh creates."""

from sightline_analytics import kinds, schema


def test_kind_names_are_the_proto_enum_and_oneof(messages):
    enum = messages.pool.FindEnumTypeByName("sightline.v1.EventKind")
    from_enum = [v.name.removeprefix("EVENT_KIND_").lower() for v in enum.values if v.number != 0]
    assert list(kinds.KIND_NAMES) == from_enum
    oneof = messages.descriptor("Event").oneofs_by_name["kind"]
    assert sorted(f.name for f in oneof.fields) == sorted(kinds.KIND_NAMES)


def test_every_kind_topic_is_created():
    created = set(schema.topics())
    for suffix in [*kinds.TOPIC_SUFFIX.values(), kinds.REJECTED_SUFFIX, kinds.OVERFLOW_SUFFIX]:
        assert suffix in created, f"{suffix} missing from proto/topics.txt"


def test_unknown_names_are_refused():
    assert kinds.checked("ad_click") == "ad_click"
    try:
        kinds.checked("clicks")
    except ValueError as err:
        assert "page_view" in str(err)
    else:
        raise AssertionError("'clicks' is a topic, not a kind")
