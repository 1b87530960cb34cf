"""Every dashboard query, run by ClickHouse over what it consumed from Kafka, equals the ground
truth computed in Python from the known interactions."""

import math

import pytest

from sightline_analytics import queries
from sightline_analytics.queries import Window


@pytest.fixture(scope="module")
def window(data):
    return Window("demo", data.days[0], data.days[-1])


@pytest.fixture(scope="module")
def truth(data):
    from sightline_analytics import dataset

    return dataset.truth(data, "demo")


def ad_row(r):
    return {"impressions": int(r["impressions"]), "viewable": int(r["viewable_impressions"]), "clicks": int(r["clicks"])}


def strip(t):
    return {"impressions": t["impressions"], "viewable": t["viewable"], "clicks": t["clicks"]}


def test_every_record_was_consumed_and_the_garbage_set_aside(loaded, data):
    assert int(loaded.scalar("SELECT count() FROM sightline.kafka_errors")) == data.garbage
    assert int(loaded.scalar("SELECT uniqExact(event_id) FROM sightline.events")) == len(data.interactions)
    assert int(loaded.scalar("SELECT count() FROM sightline.events_unique")) == len(data.interactions)


def test_events_by_kind_daily(loaded, window, truth):
    rows = queries.run(loaded, "events_by_kind_daily", window)
    got = {(r["day"], r["kind"]): int(r["events"]) for r in rows}
    assert got == truth["counts"]


def test_ctr_by_college_cohort(loaded, window, truth):
    rows = queries.run(loaded, "ctr_by_college_cohort", window)
    got = {(r["college"], r["cohort"]): ad_row(r) for r in rows}
    want = {k: strip(v) for k, v in truth["by_college_cohort"].items()}
    assert got == want
    for r in rows:
        t = want[(r["college"], r["cohort"])]
        assert math.isclose(float(r["ctr"]), round(t["clicks"] / t["impressions"], 6), abs_tol=1e-9)
    assert sum(v["clicks"] for v in want.values()) > 0


def test_ctr_by_slot_daily(loaded, window, truth):
    rows = queries.run(loaded, "ctr_by_slot_daily", window)
    got = {(r["day"], r["slot_id"]): {**ad_row(r), "clicked": int(r["clicked_impressions"])} for r in rows}
    want = {k: {**strip(v), "clicked": v["clicked"]} for k, v in truth["by_slot_day"].items()}
    assert got == want


def test_ad_heatmap_cells(loaded, window, truth):
    rows = queries.run(loaded, "ad_heatmap", window)
    got = {(int(r["cell_x"]), int(r["cell_y"])): ad_row(r) for r in rows}
    want = {k: strip(v) for k, v in truth["heatmap"].items()}
    assert got == want
    assert len(got) == 3


def test_funnel_steps(loaded, window, truth):
    rows = queries.run(loaded, "funnel_search_course_ad_click", window)
    got = {int(r["step"]): int(r["sessions"]) for r in rows}
    want = {level: truth["funnel"]["reached"].get(level, 0) for level in (1, 2, 3)}
    assert got == want
    assert want[1] > want[2] > want[3] > 0


def two_proportion_z(x1, n1, x2, n2):
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (x1 / n1 - x2 / n2) / se
    p = math.erfc(abs(z) / math.sqrt(2))
    return z, p


def test_ab_counts_and_significance(loaded, window, truth):
    rows = queries.run(loaded, "ab_ctr_significance", window)
    got = {(r["experiment"], r["variant"]): r for r in rows}
    assert set(got) == set(truth["ab"])
    for key, t in truth["ab"].items():
        r = got[key]
        assert (int(r["users"]), int(r["impressions"]), int(r["clicked_impressions"]), int(r["clicks"])) == (
            t["users"], t["impressions"], t["clicked"], t["clicks"]), key
        if key[1] == "control":
            assert r["z"] is None
            continue
        c = truth["ab"][(key[0], "control")]
        z, p = two_proportion_z(t["clicked"], t["impressions"], c["clicked"], c["impressions"])
        assert math.isclose(float(r["z"]), z, rel_tol=1e-9), key
        assert math.isclose(float(r["p_value"]), p, rel_tol=1e-6), key


def test_rejected_by_reason(loaded, window, truth):
    rows = queries.run(loaded, "rejected_by_reason", window)
    assert {r["reason"]: int(r["rejected"]) for r in rows} == truth["rejected"]


def test_impressions_deduplicate_across_phases_and_redelivery(loaded, data):
    """VIEWABLE and FINAL share impression_id and some records arrived twice: one row each."""
    ids = {i.data["impression_id"] for i in data.interactions if i.kind == "ad_impression"}
    both = sum(1 for i in data.interactions if i.kind == "ad_impression" and i.data["phase"] == "IMPRESSION_PHASE_VIEWABLE")
    assert both > 0
    assert int(loaded.scalar("SELECT count() FROM sightline.ad_impressions_unique")) == len(ids)
    final = int(loaded.scalar("SELECT count() FROM sightline.ad_impressions FINAL"))
    assert final == len(ids)


def test_overflow_topic_events_are_counted(loaded, data):
    assert data.overflow
    got = int(loaded.scalar(
        "SELECT uniqExact(event_id) FROM sightline.events WHERE anonymous_id = 'anon-demo-004'"))
    assert got == len(data.overflow)


def test_custom_properties_and_maps(loaded, data):
    rows = loaded.rows("SELECT custom_properties, traits, experiments FROM sightline.events_unique WHERE kind = 'custom' LIMIT 1")
    assert rows, "no custom event consumed"
    assert rows[0]["custom_properties"] == {"plan": "pro", "seats": "3", "trial": "true", "price": "12.5"}
    assert set(rows[0]["traits"]) == {"college", "cohort"}
    assert set(rows[0]["experiments"]) == {"ad_layout", "cta_color"}
