"""Video ads (issue 20) in ClickHouse.

First, the data set's video sessions (dataset.py, `_add_video_sessions`) through the whole test
pipeline — protobuf batches POSTed to the real collector, Kafka, the Kafka engine, the views —
must give exactly the truth the generator computes from its interactions (`video_truth`).

Then generated video sessions go through the real schema
(events_stream → ad_videos_consume → ad_videos → ad_videos_unique) and the dashboard query
video_quartile_funnel must give the numbers the generator knows: per slot, college and cohort,
impressions, the quartile funnel, viewable, completion and AVOC rates and the average time in
view while playing. Messages are delivered at least once (some twice) and a FINAL may be lost.
Rows enter the Null stream table the Kafka engine feeds in production, in the shared pipeline's
database (chdb runs one embedded server per process) under a site of their own, `video-test`,
so no other test's numbers change."""

import datetime
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sightline_analytics import queries

COLS = (
    "event_event_id, event_seq, kind, site_key, user_key, event_time_ms, identity_traits, "
    "event_ad_video_ad_slot_id, event_ad_video_impression_id, event_ad_video_event, "
    "event_ad_video_quartiles, event_ad_video_viewable, event_ad_video_audible_visible_on_complete, "
    "event_ad_video_in_view_playing_ms"
)
SITE = "video-test"
EVENTS = ["START", "FIRST_QUARTILE", "MIDPOINT", "THIRD_QUARTILE", "COMPLETE"]


def sessions(seed=20):
    """(rows to insert, expected per (slot, college, cohort))."""
    rng = random.Random(seed)
    now = int(time.time() * 1000)
    rows, expected = [], defaultdict(lambda: defaultdict(float))
    for n in range(120):
        slot = rng.choice(["preroll-course", "feed-video"])
        college, cohort = rng.choice(["IIT Delhi", "BITS Pilani"]), rng.choice(["2026", "2027"])
        depth = rng.randint(0, 4)  # last quartile bit reached: 0 start … 4 complete
        viewable = rng.random() < 0.7
        avoc = depth == 4 and viewable and rng.random() < 0.6
        in_view = rng.randint(0, 15000) if viewable else rng.randint(0, 1900)
        messages, bits = [], 0
        for bit in range(depth + 1):
            bits |= 1 << bit
            messages.append((EVENTS[bit], bits, False, avoc and bit == 4))
        if viewable:
            messages.insert(min(2, len(messages)), ("VIEWABLE", bits if len(messages) <= 2 else 3, True, False))
        if rng.random() < 0.8:  # the FINAL may be lost at page hide
            messages.append(("FINAL", bits, viewable, avoc))
        seen_viewable = False
        for seq, (event, q, v, a) in enumerate(messages, start=1):
            seen_viewable = seen_viewable or v
            ms = in_view if seq == len(messages) else in_view * seq // (len(messages) + 1)
            row = (
                f"('{n}-{seq}', {seq}, 'EVENT_KIND_AD_VIDEO', '{SITE}', 'u{n}', {now}, "
                f"map('college', '{college}', 'cohort', '{cohort}'), '{slot}', 'imp-{n}', 'VIDEO_EVENT_{event}', "
                f"{q}, {int(seen_viewable)}, {int(a)}, {ms})"
            )
            rows.append(row)
            if rng.random() < 0.2:  # delivered twice (client retry, spool replay)
                rows.append(row)
        e = expected[(slot, college, cohort)]
        e["impressions"] += 1
        e["started"] += 1
        for bit, name in enumerate(["first_quartile", "midpoint", "third_quartile", "completed"], start=1):
            e[name] += depth >= bit
        e["viewable_impressions"] += viewable
        e["avoc_impressions"] += avoc
        e["in_view_sum"] += in_view
    rng.shuffle(rows)
    return rows, expected


def test_video_quartile_funnel_matches_the_generated_sessions(loaded):
    engine = loaded
    rows, expected = sessions()
    for start in range(0, len(rows), 200):
        engine.execute(f"INSERT INTO sightline.events_stream ({COLS}) VALUES " + ",".join(rows[start:start + 200]))
    today = datetime.date.today()
    window = queries.Window(site_key=SITE, date_from=today - datetime.timedelta(days=1),
                            date_to=today + datetime.timedelta(days=1), college="", cohort="")
    got = {(r["slot_id"], r["college"], r["cohort"]): r for r in queries.run(engine, "video_quartile_funnel", window)}
    assert set(got) == set(expected)
    for key, e in expected.items():
        r = got[key]
        for name in ["impressions", "started", "first_quartile", "midpoint", "third_quartile", "completed",
                     "viewable_impressions", "avoc_impressions"]:
            assert r[name] == e[name], (key, name)
        assert r["completion_rate"] == pytest.approx(e["completed"] / e["started"], abs=1e-6)
        assert r["viewable_rate"] == pytest.approx(e["viewable_impressions"] / e["impressions"], abs=1e-6)
        assert r["avoc_rate"] == pytest.approx(e["avoc_impressions"] / e["impressions"], abs=1e-6)
        assert r["avg_in_view_playing_ms"] == round(e["in_view_sum"] / e["impressions"])
    # The funnel narrows: every quartile is a subset of the one before.
    for r in got.values():
        assert r["started"] >= r["first_quartile"] >= r["midpoint"] >= r["third_quartile"] >= r["completed"]


def test_video_quartile_funnel_equals_the_dataset_truth_through_the_pipeline(loaded, data, run):
    """Site `demo`: the data set's video impressions, delivered through the collector and Kafka
    (some batches twice, some FINALs never sent), counted exactly as the generator knows them."""
    from sightline_analytics import dataset

    expected = dataset.video_truth(data, "demo")
    assert sum(e["completed"] for e in expected.values()) > 0 and sum(e["avoc_impressions"] for e in expected.values()) > 0, \
        "the data set must reach complete and AVOC for the test to prove anything"
    last_day = max(data.days[-1], datetime.datetime.fromtimestamp(run.sent_until_ms / 1000, datetime.UTC).date())
    window = queries.Window(site_key="demo", date_from=data.days[0], date_to=last_day, college="", cohort="")
    got = {(r["slot_id"], r["college"], r["cohort"]): r for r in queries.run(loaded, "video_quartile_funnel", window)}
    assert set(got) == set(expected)
    for key, e in expected.items():
        r = got[key]
        for name in ["impressions", "started", "first_quartile", "midpoint", "third_quartile", "completed",
                     "viewable_impressions", "avoc_impressions"]:
            assert r[name] == e[name], (key, name, r[name], e[name])
        assert r["avg_in_view_playing_ms"] == round(e["in_view_sum"] / e["impressions"]), key
        assert r["completion_rate"] == pytest.approx(e["completed"] / e["started"], abs=1e-6)
        assert r["avoc_rate"] == pytest.approx(e["avoc_impressions"] / e["impressions"], abs=1e-6)


def test_report_charts_the_video_quartile_funnel_summed_over_slots():
    """`make report`'s video section: each step's bar is that step's impressions summed over
    every slot, college and cohort, labelled with its share of the starts."""
    from sightline_analytics import report

    zero = {"first_quartile": 0, "midpoint": 0, "third_quartile": 0, "completed": 0}
    rows = [{**zero, "started": 8, "first_quartile": 6, "midpoint": 4, "third_quartile": 4, "completed": 2},
            {**zero, "started": 2, "first_quartile": 2, "midpoint": 1}]
    assert report.video_funnel_totals(rows) == [("start", 10), ("25 %", 8), ("50 %", 5), ("75 %", 4), ("complete", 2)]
    svg = report.video_funnel_chart(rows)
    for text in ["10 (100.0 %)", "8 (80.0 %)", "5 (50.0 %)", "4 (40.0 %)", "2 (20.0 %)"]:
        assert text in svg, text
    assert svg.count("<rect") == 5
    assert "No video ad starts" in report.video_funnel_chart([])
