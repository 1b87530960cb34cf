"""The campaign dashboard's API over HTTP, on the pipeline the truth tests proved: every panel is
exactly what the query files answer (and so what test_numbers.py checked against the ground
truth), the filters narrow it, and a panel whose tables do not exist is reported absent."""

import json
import shutil
import urllib.parse
import urllib.request
from datetime import UTC, datetime

import pytest

from sightline_analytics import dashboard, queries
from sightline_analytics.queries import Window


@pytest.fixture(scope="module")
def window(data, run):
    until = datetime.fromtimestamp(run.sent_until_ms / 1000, UTC).date()
    return Window("demo", data.days[0], max(data.days[-1], until))


@pytest.fixture(scope="module")
def server(loaded):
    srv = dashboard.serve(dashboard.ChdbBackend(loaded), "127.0.0.1", 0)
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def get(url: str):
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.status, answer.headers.get("Content-Type"), answer.read()


def panels(server, window, **filters):
    query = {"site": window.site_key, "from": window.date_from.isoformat(), "to": window.date_to.isoformat(), **filters}
    status, _, body = get(f"{server}/api/panels?{urllib.parse.urlencode(query)}")
    assert status == 200
    return json.loads(body)


def test_every_panel_equals_its_query(server, loaded, window, truth_ctr):
    got = panels(server, window)
    assert got["absent"] == []
    assert set(got["panels"]) == set(queries.names())
    for name in queries.names():
        assert got["panels"][name] == queries.run(loaded, name, window), name
    # and the CTR panel is the ground truth (test_numbers.py proves the query; this closes the loop)
    assert {(r["college"], r["cohort"]): int(r["clicks"]) for r in got["panels"]["ctr_by_college_cohort"]} == truth_ctr


@pytest.fixture(scope="module")
def truth_ctr(data):
    from sightline_analytics import dataset

    return {k: v["clicks"] for k, v in dataset.truth(data, "demo")["by_college_cohort"].items()}


def test_college_and_cohort_filters_narrow_the_ctr_panels(server, window):
    everything = panels(server, window)["panels"]["ctr_by_college_cohort"]
    pick = max(everything, key=lambda r: int(r["impressions"]))
    narrowed = panels(server, window, college=pick["college"], cohort=pick["cohort"])["panels"]
    assert narrowed["ctr_by_college_cohort"] == [pick]
    slots = narrowed["ctr_by_slot_daily"]
    assert sum(int(r["impressions"]) for r in slots) == int(pick["impressions"])
    assert len(everything) > 1


def test_the_campaign_filter_narrows_the_ctr_panels_to_the_ground_truth(server, window, data):
    from sightline_analytics import dataset

    truth = dataset.truth(data, "demo")["by_campaign_college_cohort"]
    campaigns = sorted({campaign for campaign, _, _ in truth})
    assert campaigns == sorted(dataset.CAMPAIGNS)
    for campaign in campaigns:
        got = panels(server, window, campaign=campaign)["panels"]["ctr_by_college_cohort"]
        want = {(c, h): row["clicks"] for (m, c, h), row in truth.items() if m == campaign}
        assert {(r["college"], r["cohort"]): int(r["clicks"]) for r in got} == want, campaign
    status, _, body = get(f"{server}/api/options?site=demo")
    assert status == 200
    assert json.loads(body)["campaigns"] == campaigns


def test_the_page_and_options(server):
    status, content_type, body = get(f"{server}/")
    assert status == 200 and content_type.startswith("text/html") and b"/dashboard.js" in body
    status, content_type, _ = get(f"{server}/dashboard.js")
    assert status == 200 and content_type.startswith("text/javascript")
    _, _, body = get(f"{server}/api/options?site=demo")
    opts = json.loads(body)
    assert "demo" in opts["sites"] and opts["colleges"] and opts["cohorts"]


def test_a_query_on_tables_this_clickhouse_lacks_is_absent_not_an_error(server, window, tmp_path, monkeypatch):
    """The IVT and video panels appear only where their tables exist."""
    for name in queries.names():
        shutil.copy(queries.QUERIES_DIR / f"{name}.sql", tmp_path)
    (tmp_path / "video_quartiles.sql").write_text(
        "-- Business question: how far are videos watched?\nSELECT count() AS n FROM sightline.video_progress_daily\n")
    monkeypatch.setattr(queries, "QUERIES_DIR", tmp_path)
    got = panels(server, window)
    assert got["absent"] == ["video_quartiles"]
    assert set(got["panels"]) == set(queries.names()) - {"video_quartiles"}


def test_a_malformed_date_is_a_400(server):
    with pytest.raises(urllib.error.HTTPError) as err:
        get(f"{server}/api/panels?from=yesterday")
    assert err.value.code == 400
