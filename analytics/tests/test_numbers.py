"""Every dashboard query, run by ClickHouse over what it consumed from Kafka after the collector
wrote it, equals the ground truth computed in Python from the known interactions."""

import math
from datetime import UTC, datetime

import pytest

from sightline_analytics import dataset, delivery, queries
from sightline_analytics.queries import Window


def utc_date(ms: int):
    return datetime.fromtimestamp(ms / 1000, UTC).date()


@pytest.fixture(scope="module")
def window(data, run):
    """The events' days, through the day the collector received them (dead letters are filed
    under their receipt day)."""
    return Window("demo", data.days[0], max(data.days[-1], utc_date(run.sent_until_ms)))


@pytest.fixture(scope="module")
def truth(data):
    from sightline_analytics import dataset

    return dataset.truth(data, "demo")


def ad_row(r):
    return {"impressions": int(r["impressions"]), "viewable": int(r["viewable_impressions"]), "clicks": int(r["clicks"])}


def strip(t):
    return {"impressions": t["impressions"], "viewable": t["viewable"], "clicks": t["clicks"]}


def test_the_dataset_leaves_no_room_for_transit_time():
    """No shift below TIME_TOLERANCE_MS moves an event across a day, reorders a session or moves a
    funnel step across the window: the truth does not depend on the collector's clock."""
    assert dataset.check_unambiguous(dataset.generate()) == []
    # The check can fail: a step 1 ms from the window edge after a search is ambiguous.
    data = dataset.generate()
    session = next(b.session_id for b in data.batches if any(i.kind == "search" for i in b.interactions))
    search = next(i for i in data.interactions if i.session_id == session and i.kind == "search")
    step = next(i for i in data.interactions if i.session_id == session and i.kind == "page_view")
    step.url, step.time_ms = "https://demo.example/courses/c1", search.time_ms + dataset.FUNNEL_WINDOW_S * 1000 + 1
    assert any("after a search" in p for p in dataset.check_unambiguous(data))


def test_every_batch_was_answered_with_its_counts_and_the_collector_stopped_cleanly(run, data):
    assert delivery.unexpected(run.deliveries) == []
    assert len(run.deliveries) == len(data.batches) + sum(1 for b in data.batches if b.resend)
    assert sum(d.answer["accepted"] for d in run.deliveries) == len(data.interactions) + len(data.duplicates)
    assert sum(d.answer["rejected"] for d in run.deliveries) == len(data.defects) > 0
    assert run.collector_exit == 0


def test_event_times_are_the_collectors_skew_corrected_times(run, data):
    """Every stored copy: event_time = received_at - (sent_at - client_ts) with the values the
    browser sent, received_at within the sending phase, and event_time within the tolerance of
    the true time although the browsers' clocks were hours off."""
    sent = {}
    for d in run.deliveries:
        for event_id, client_ts in d.stamped.client_ts_ms.items():
            sent[event_id.hex()] = (d.stamped.sent_at_ms, client_ts)
    true_ms = {i.event_id.hex(): i.time_ms for i in data.interactions}
    rows = run.engine.rows(
        "SELECT lower(hex(event_id)) AS id, toUnixTimestamp64Milli(event_time) AS t, "
        "toUnixTimestamp64Milli(received_at) AS r, collector_id, client_ip FROM sightline.events")
    assert len(rows) >= len(data.interactions)
    assert {r["id"] for r in rows} == set(true_ms)
    assert {d.planned.user.clock_skew_ms for d in run.deliveries} >= {0, 2 * 3600_000}
    for r in rows:
        t, received = int(r["t"]), int(r["r"])
        sent_at, client_ts = sent[r["id"]]
        assert t == received - (sent_at - client_ts), r
        assert run.sent_from_ms <= received <= run.sent_until_ms, r
        assert 0 <= t - true_ms[r["id"]] < dataset.TIME_TOLERANCE_MS, r
        assert (r["collector_id"], r["client_ip"]) == (run.collector_settings.collector_id, "127.0.0.0"), r


def test_every_record_was_consumed_and_the_garbage_set_aside(loaded, data):
    # exactly what was sent: every accepted event, every resent copy, the two garbage records
    records = int(loaded.scalar("SELECT sum(records) FROM sightline.kafka_ingest"))
    assert records == len(data.interactions) + len(data.duplicates) + data.garbage
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
    """The collector's dead letters, by its reason codes (one defect of each kind was sent)."""
    rows = queries.run(loaded, "rejected_by_reason", window)
    assert {r["reason"]: int(r["rejected"]) for r in rows} == truth["rejected"]
    assert set(truth["rejected"]) == set(dataset.DEFECT_REASONS.values())


def test_dead_letters_carry_the_collectors_details(run, data):
    rows = run.engine.rows(
        "SELECT site_key, reason, detail, collector_id FROM sightline.rejected_events ORDER BY site_key, reason")
    want = sorted((d.site, d.reason) for d in data.defects)
    assert sorted((r["site_key"], r["reason"]) for r in rows) == want
    assert all(r["detail"] and r["collector_id"] == run.collector_settings.collector_id for r in rows), rows


def test_impressions_deduplicate_across_phases_and_redelivery(loaded, data):
    """VIEWABLE and FINAL share impression_id and some records arrived twice: one row each."""
    ids = {i.data["impression_id"] for i in data.interactions if i.kind == "ad_impression"}
    both = sum(1 for i in data.interactions if i.kind == "ad_impression" and i.data["phase"] == "IMPRESSION_PHASE_VIEWABLE")
    assert both > 0
    assert int(loaded.scalar("SELECT count() FROM sightline.ad_impressions_unique")) == len(ids)
    final = int(loaded.scalar("SELECT count() FROM sightline.ad_impressions FINAL"))
    assert final == len(ids)


def test_the_hot_users_events_came_through_the_overflow_topic_and_are_counted(run, data):
    """The hot user's batch exceeds the collector's hot-user burst: it went to <prefix>overflow,
    unkeyed, and every one of its events still counts."""
    assert len(data.overflow) > run.collector_settings.hot_user_burst
    overflow_topic = run.collector_settings.topic_prefix + "overflow"
    on_topic = int(run.engine.scalar(
        "SELECT sum(records) FROM sightline.kafka_ingest WHERE topic = {t:String}", {"t": overflow_topic}))
    assert on_topic == len(data.overflow)
    got = int(run.engine.scalar(
        "SELECT uniqExact(event_id) FROM sightline.events WHERE anonymous_id = {a:String}", {"a": dataset.HOT_USER}))
    assert got == len(data.overflow)


def test_custom_properties_and_maps(loaded, data):
    rows = loaded.rows("SELECT custom_properties, traits, experiments FROM sightline.events_unique WHERE kind = 'custom' LIMIT 1")
    assert rows, "no custom event consumed"
    assert rows[0]["custom_properties"] == {"plan": "pro", "seats": "3", "trial": "true", "price": "12.5"}
    assert set(rows[0]["traits"]) == {"college", "cohort"}
    assert set(rows[0]["experiments"]) == {"ad_layout", "cta_color"}


def test_invalid_traffic_is_left_out_of_the_ad_numbers_and_reported(loaded, window, data, truth):
    """The injected headless browser (GIVT, automation) and click fraudster (SIVT, clicks with
    no impression) are in Kafka and in the events table, out of CTR/heatmap/A/B (the tests above
    compare those with the valid-only truth), and in the IVT report exactly as injected."""
    with_ivt = dataset.truth(data, "demo", valid_only=False)
    # The check can fail: counting the injected traffic would move the dashboards' numbers.
    assert with_ivt["by_college_cohort"] != truth["by_college_cohort"]
    assert with_ivt["ab"] != truth["ab"]
    rows = queries.run(loaded, "ivt_report", window)
    got = {(r["day"], r["slot_id"], r["traffic_class"], r["reason"]):
           {"impressions": int(r["impressions"]), "clicks": int(r["clicks"])} for r in rows if r["slot_id"]}
    want = dataset.ivt_truth(data)
    assert got == want
    assert {k[2:] for k in want} == set(dataset.IVT_USERS.values())
    events = {}
    for r in rows:
        key = (r["traffic_class"], r["reason"])
        events[key] = events.get(key, 0) + int(r["events"])
    injected = {}
    for i in data.interactions:
        if i.user.traffic and not (i.user.traffic == "sivt" and i.kind != "ad_click"):
            key = dataset.IVT_USERS[i.user.anonymous_id]
            injected[key] = injected.get(key, 0) + 1
    assert events == injected
    for r in rows:
        for rate, count in (("impression_rate", "impressions"), ("click_rate", "clicks")):
            if r[rate] is not None:
                assert 0 <= float(r[rate]) <= 1, r
                assert (float(r[rate]) > 0) == (int(r[count]) > 0), r
    classes = loaded.rows("SELECT traffic_class, count() AS n FROM sightline.events_unique GROUP BY traffic_class")
    assert {r["traffic_class"] for r in classes} == {"valid", "givt", "sivt"}
