"""Erasure (issue 18) on the analytics data set: one identified student's rows leave every
event-level table (their anonymous-id rows from before signing in too), every aggregate and
rollup table is byte-for-byte unchanged, and every other person's rows are untouched. Runs last
(conftest orders it): it deletes from the shared pipeline."""

import json

import pytest

from sightline_analytics import erase

# Tables that hold counts and states, never one person's rows.
AGGREGATE_ENGINES = ("AggregatingMergeTree", "SummingMergeTree")


def aggregate_tables(engine) -> list[str]:
    rows = engine.rows(
        "SELECT name, engine FROM system.tables WHERE database = 'sightline' "
        "AND (engine IN {engines:Array(String)} OR name LIKE '%rollup%') ORDER BY name",
        {"engines": erase.array_param(list(AGGREGATE_ENGINES))},
    )
    return [r["name"] for r in rows]


def snapshot(engine, table: str) -> list[str]:
    # Every column (aggregate states by their finalized value), in a stable order.
    columns = engine.rows(
        "SELECT name, type FROM system.columns WHERE database = 'sightline' AND table = {t:String} ORDER BY position",
        {"t": table},
    )
    exprs = [f"toString(finalizeAggregation({c['name']}))" if c["type"].startswith("AggregateFunction")
             else f"toString({c['name']})" for c in columns]
    joined = ", '|', ".join(exprs)
    rows = engine.rows(f"SELECT concat({joined}) AS row FROM sightline.{table} ORDER BY row")
    return [r["row"] for r in rows]


def person_with_rows_everywhere(engine) -> tuple[str, str]:
    """An identified student of site demo with rows in events, ad impressions and the journey."""
    rows = engine.rows(
        "SELECT user_key AS u FROM sightline.events WHERE site_key = 'demo' AND user_id != '' "
        "AND user_key IN (SELECT user_key FROM sightline.ad_impressions) "
        "AND user_key IN (SELECT user_key FROM sightline.journey_steps) "
        "GROUP BY user_key ORDER BY count() DESC, user_key LIMIT 1"
    )
    assert rows, "the data set has no identified student with impressions and a journey"
    return "demo", rows[0]["u"]


def test_erasing_a_student_removes_their_rows_and_changes_no_aggregate(loaded):
    site, user = person_with_rows_everywhere(loaded)
    request = erase.Request(site, "user_id", user)
    before = erase.remaining(loaded, request)
    assert before["events"] > 0 and before["ad_impressions"] > 0 and before["journey_steps"] > 0, before
    assert before["ad_videos"] > 0, before  # every regular demo user of the data set watched video ads
    totals = {t: int(loaded.scalar(f"SELECT count() FROM sightline.{t}")) for t in erase.EVENT_TABLES}
    aggregates = aggregate_tables(loaded)
    assert {"ad_ctr_daily", "ad_heatmap_daily", "ab_ctr_daily", "ivt_daily", "ad_ctr_rollup"} <= set(aggregates)
    frozen = {t: snapshot(loaded, t) for t in aggregates}
    assert any(frozen.values()), "aggregates are empty: nothing would be proved"

    report = erase.apply(loaded, request)
    assert report["ok"], report
    assert report["remaining"] == dict.fromkeys(erase.EVENT_TABLES, 0)
    # The rows deleted are exactly the person's: everyone else's are all still there.
    for table in erase.EVENT_TABLES:
        left = int(loaded.scalar(f"SELECT count() FROM sightline.{table}"))
        assert left == totals[table] - before[table], table
    for table in aggregates:
        assert snapshot(loaded, table) == frozen[table], f"{table} changed"
    # Applying it again finds nothing and still verifies.
    again = erase.apply(loaded, request)
    assert again["ok"] and again["deleted"] == dict.fromkeys(erase.EVENT_TABLES, 0)


def test_ids_are_quoted_as_literals():
    assert erase.array_param(["a", "o'b", "c\\d"]) == "['a','o\\'b','c\\\\d']"


def test_requests_parse_from_the_admin_tools_records():
    value = json.dumps({"site": "demo", "id_kind": "visitor_id", "id": "5d41", "requested_at_ms": 1, "reason": ""})
    assert erase.Request.from_json(value) == erase.Request("demo", "visitor_id", "5d41")
    with pytest.raises(erase.ErasureError):
        erase.Request.from_json(json.dumps({"site": "demo", "id_kind": "email", "id": "x"}))
    with pytest.raises(erase.ErasureError):
        erase.Request("demo", "user_id", "")
