"""Closed-day rollups (schema.sql section 5, rollup.py): finalizing days must not change a single
dashboard number, whatever mix of finalized and open days a range covers, and the queries must
really read the rollups of finalized days. Runs after test_numbers.py on the same pipeline, whose
numbers are proved against the ground truth there with every day open; leaves every day open."""

from datetime import date, timedelta

import pytest

from sightline_analytics import queries, rollup
from sightline_analytics.queries import Window


@pytest.fixture(scope="module")
def window(data):
    # Through tomorrow: dead letters are filed under the day the batches were sent.
    return Window("demo", data.days[0], max(data.days[-1], date.today() + timedelta(days=1)))


@pytest.fixture(scope="module")
def open_days(loaded, window):
    """Every query's answer with every day open (the uniqExact states), and the days with data."""
    days = rollup.days_with_data(loaded)
    assert rollup.finalized_days(loaded) == []
    assert len(days) >= 2
    yield queries.run_all(loaded, window), days
    for d in days:  # leave the pipeline as test_numbers.py found it
        rollup.reopen(loaded, d)
    assert rollup.finalized_days(loaded) == []


def test_finalizing_one_day_then_all_days_changes_no_number(loaded, window, open_days):
    before, days = open_days
    rollup.finalize(loaded, days[0])
    assert rollup.finalized_days(loaded) == [days[0]]
    assert queries.run_all(loaded, window) == before  # mixed: one day from rollups, the rest from states
    rollup.finalize_through(loaded, days[-1])
    assert rollup.finalized_days(loaded) == days
    assert queries.run_all(loaded, window) == before
    rollup.finalize(loaded, days[0])  # again, as after a late replay: the newer version replaces
    assert queries.run_all(loaded, window) == before


def test_queries_read_the_rollups_of_finalized_days(loaded, window, open_days):
    """A newer rollup row with a changed count shows in the dashboard; finalizing again restores it."""
    before, days = open_days
    rollup.finalize_through(loaded, days[-1])
    row = loaded.rows("SELECT day, college, cohort, slot_id, campaign_id, impressions, version "
                      "FROM sightline.ad_ctr_rollup FINAL WHERE site_key = 'demo' ORDER BY impressions DESC LIMIT 1")[0]
    loaded.execute(
        "INSERT INTO sightline.ad_ctr_rollup SELECT day, site_key, college, cohort, slot_id, campaign_id, impressions + 1000, "
        "viewable_impressions, clicks, clicked_impressions, version + 1 FROM sightline.ad_ctr_rollup FINAL "
        "WHERE site_key = 'demo' AND day = {d:Date} AND college = {c:String} AND cohort = {h:String} AND slot_id = {s:String} "
        "AND campaign_id = {m:String}",
        {"d": row["day"], "c": row["college"], "h": row["cohort"], "s": row["slot_id"], "m": row["campaign_id"]})
    tampered = {(r["college"], r["cohort"]): int(r["impressions"]) for r in queries.run(loaded, "ctr_by_college_cohort", window)}
    want = {(r["college"], r["cohort"]): int(r["impressions"]) for r in before["ctr_by_college_cohort"]}
    want[(row["college"], row["cohort"])] += 1000
    assert tampered == want
    rollup.finalize(loaded, date.fromisoformat(row["day"]))
    assert queries.run_all(loaded, window) == before


def test_a_reopened_day_is_read_from_the_states_again(loaded, window, open_days):
    before, days = open_days
    rollup.finalize_through(loaded, days[-1])
    rollup.reopen(loaded, days[-1])
    assert rollup.finalized_days(loaded) == days[:-1]
    assert queries.run_all(loaded, window) == before
