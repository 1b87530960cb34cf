"""Backend enrolments (JSON import API: track('Course Enrolled', {course_id, revenue})) join the
browser's funnel on user id: the four-step funnel per user and revenue per ad slot and cohort,
checked against hand-computed truth.

The rows enter sightline.events_stream — the table every Kafka record lands in — as the
collector writes them (server-source enrolments with source EVENT_SOURCE_SERVER, browser events
unset), under their own site so the other truth tests' numbers are untouched. That the
libraries' messages become exactly such records is proven against the real broker by
tests/tests/import_api.rs and tests/import/."""

from datetime import UTC, datetime, timedelta

import pytest

from sightline_analytics import queries

SITE = "enrol-truth"
MINUTE = 60_000
DAY = 24 * 60 * MINUTE


@pytest.fixture(scope="module")
def enrolled(loaded):
    now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    t0 = int(now.timestamp() * 1000) - 2 * 60 * MINUTE
    rows = []

    def event(eid, kind, user, t, cohort="", session="", url="", slot="", name="", keys=(), strings=(), numbers=(),
              ints=(), source="EVENT_SOURCE_UNSPECIFIED"):
        traits = f"{{'cohort':'{cohort}'}}" if cohort else "{}"
        rows.append(
            f"('{eid}', 'EVENT_KIND_{kind}', '{SITE}', '{user}', '{user}', '{session}', {traits}, {t}, {t}, "
            f"'{url}', '{url}', '{slot}', '{name}', {list(keys)}, {list(strings)}, {list(numbers)}, {list(ints)}, "
            f"{[False] * len(keys)}, '{source}', '')"
        )

    def enrol(eid, user, t, revenue_number=0.0, revenue_int=0):
        event(eid, "CUSTOM", user, t, name="Course Enrolled", keys=("course_id", "revenue"), strings=("c-42", ""),
              numbers=(0.0, revenue_number), ints=(0, revenue_int), source="EVENT_SOURCE_SERVER")

    # u1: the whole funnel; enrols an hour after clicking the billboard (cohort 2026).
    event("u1-s", "SEARCH", "u1", t0, "2026", "s1")
    event("u1-v", "PAGE_VIEW", "u1", t0 + MINUTE, "2026", "s1", url="https://campus.example/courses/42")
    event("u1-c", "AD_CLICK", "u1", t0 + 2 * MINUTE, "2026", "s1", slot="billboard-top")
    enrol("u1-e", "u1", t0 + 60 * MINUTE, revenue_int=4999)
    # u2: two clicks, the last one (billboard) gets the enrolment; the enrolment is retried (same id).
    event("u2-c1", "AD_CLICK", "u2", t0, "2027", "s2", slot="sidebar")
    event("u2-c2", "AD_CLICK", "u2", t0 + 10 * MINUTE, "2027", "s2", slot="billboard-top")
    enrol("u2-e", "u2", t0 + 20 * MINUTE, revenue_number=120.5)
    enrol("u2-e", "u2", t0 + 20 * MINUTE, revenue_number=120.5)
    # u3: enrols without any ad click: in no slot's revenue.
    enrol("u3-e", "u3", t0, revenue_int=999)
    # u4: clicked 8 days before enrolling: outside the 7-day attribution window.
    event("u4-c", "AD_CLICK", "u4", t0 - 8 * DAY, "2026", "s4", slot="sidebar")
    enrol("u4-e", "u4", t0, revenue_int=500)
    # u5: searches and views a course, no ad click, no enrolment.
    event("u5-s", "SEARCH", "u5", t0, "2027", "s5")
    event("u5-v", "PAGE_VIEW", "u5", t0 + MINUTE, "2027", "s5", url="https://campus.example/course/7")

    loaded.execute(
        "INSERT INTO sightline.events_stream (event_event_id, kind, site_key, user_key, identity_user_id, "
        "identity_session_id, identity_traits, event_time_ms, received_at_ms, context_url, event_page_view_url, "
        "event_ad_click_ad_slot_id, event_custom_name, `event_custom_properties.key`, "
        "`event_custom_properties.string_value`, `event_custom_properties.number_value`, "
        "`event_custom_properties.int_value`, `event_custom_properties.bool_value`, source, kafka_error) VALUES "
        + ", ".join(rows)
    )
    day = now.date()
    return queries.Window(SITE, day - timedelta(days=10), day)


def test_enrolments_table_deduplicates_and_types_revenue(loaded, enrolled):
    rows = loaded.rows(
        "SELECT user_key, course_id, revenue, source FROM sightline.enrolments FINAL WHERE site_key = {s:String} "
        "ORDER BY user_key", {"s": SITE})
    assert rows == [
        {"user_key": "u1", "course_id": "c-42", "revenue": 4999, "source": "EVENT_SOURCE_SERVER"},
        {"user_key": "u2", "course_id": "c-42", "revenue": 120.5, "source": "EVENT_SOURCE_SERVER"},
        {"user_key": "u3", "course_id": "c-42", "revenue": 999, "source": "EVENT_SOURCE_SERVER"},
        {"user_key": "u4", "course_id": "c-42", "revenue": 500, "source": "EVENT_SOURCE_SERVER"},
    ]


def test_revenue_per_slot_and_cohort_credits_the_last_click_within_7_days(loaded, enrolled):
    rows = queries.run(loaded, "enrolment_revenue_by_slot_cohort", enrolled)
    assert [(r["slot_id"], r["cohort"], int(r["enrolments"]), float(r["revenue"])) for r in rows] == [
        ("billboard-top", "2026", 1, 4999.0),
        ("billboard-top", "2027", 1, 120.5),
    ]


def test_the_funnel_ends_with_backend_enrolments(loaded, enrolled):
    rows = queries.run(loaded, "funnel_search_course_ad_click_enrolment", enrolled)
    assert [(r["step_name"], int(r["users"])) for r in rows] == [
        ("search", 2), ("course_view", 2), ("ad_click", 1), ("enrolment", 1),
    ]
