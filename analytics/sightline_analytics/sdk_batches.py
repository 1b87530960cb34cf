"""The browser's side of the test: a planned batch (dataset.PlannedBatch) as the protobuf
sightline.v1.Batch the SDK would POST to the collector, stamped on the user's skewed clock.

Nothing here knows what the collector writes to Kafka; the collector does that part.
"""

from dataclasses import dataclass

from .dataset import SLOTS, VIDEO_DURATION_MS, VIDEO_PLAYER, Defect, Interaction, PlannedBatch

SDK_VERSION = "0.1.0"
EIGHT_DAYS_MS = 8 * 86_400_000


@dataclass
class Stamped:
    """A batch ready to send: its bytes and the client clock values it carries."""

    body: bytes
    sent_at_ms: int  # on the user's clock
    client_ts_ms: dict  # event id → client_ts_ms (valid events only)


def stamp(messages, planned: PlannedBatch, now_ms: int) -> Stamped:
    """The Batch as sent at real time `now_ms`: the browser's clock reads now_ms + skew, and
    each event's client_ts is its true time on that same clock."""
    skew = planned.user.clock_skew_ms
    batch = messages.Batch()
    batch.site_key = planned.user.site
    batch.sdk_version = SDK_VERSION
    batch.sent_at_ms = now_ms + skew
    batch.batch_seq = planned.batch_seq
    batch.context.url = planned.url
    batch.context.viewport_width, batch.context.viewport_height = 1366, 768
    batch.context.locale = "en-IN"
    batch.context.timezone_offset_min = 330
    ident = batch.identity
    ident.anonymous_id = planned.user.anonymous_id
    ident.user_id = planned.user.user_id
    ident.session_id = planned.session_id
    ident.page_session_id = planned.session_id + "-p"
    ident.traits["college"] = planned.user.college
    ident.traits["cohort"] = planned.user.cohort
    for exp, variant in planned.user.experiments.items():
        batch.experiments[exp] = variant
    if planned.user.traffic == "givt":
        # A default headless browser: the SDK reports navigator.webdriver.
        batch.signals.webdriver = True
    client_ts = {}
    for i in planned.interactions:
        event_message(messages, batch.events.add(), i, i.time_ms + skew)
        client_ts[i.event_id] = i.time_ms + skew
    last_ms = planned.interactions[-1].time_ms if planned.interactions else now_ms
    for n, defect in enumerate(planned.defects):
        defect_event(messages, batch.events.add(), defect, n, last_ms + skew, batch.sent_at_ms)
    return Stamped(batch.SerializeToString(), batch.sent_at_ms, client_ts)


def event_message(messages, ev, i: Interaction, client_ts_ms: int) -> None:
    ev.event_id = i.event_id
    ev.client_ts_ms = client_ts_ms
    ev.seq = i.seq
    ev.page_view_id = i.page_view_id
    d = i.data
    if i.kind == "page_view":
        ev.page_view.url = i.url
        ev.page_view.navigation = messages.enum_value("Navigation", d["navigation"])
        ev.page_view.page_height = d["page_height"]
    elif i.kind == "search":
        ev.search.query = d["query"]
        ev.search.results_count = d["results_count"]
    elif i.kind == "scroll":
        ev.scroll.max_depth_pct = d["depth_pct"]
        ev.scroll.milestone_pct = d["depth_pct"]
        ev.scroll.page_height = 2400
    elif i.kind == "click":
        ev.click.element.selector = d["selector"]
        ev.click.element.tag = d["tag"]
        ev.click.element.data["course"] = "c1"
        ev.click.page.x, ev.click.page.y = d["page_x"], d["page_y"]
    elif i.kind == "hover":
        ev.hover.element.selector = d["selector"]
        ev.hover.dwell_ms = d["dwell_ms"]
        ev.hover.ad_slot_id = d["slot"]
    elif i.kind in ("ad_impression", "ad_click"):
        x, y, w, h = SLOTS[d["slot"]]
        body = ev.ad_impression if i.kind == "ad_impression" else ev.ad_click
        body.ad.slot_id, body.ad.creative_id, body.ad.campaign_id = d["slot"], d["creative"], d["campaign"]
        body.ad.width, body.ad.height = w, h
        body.impression_id = d["impression_id"]
        body.page_rect.x, body.page_rect.y, body.page_rect.width, body.page_rect.height = x, y, w, h
        if i.kind == "ad_impression":
            body.phase = messages.enum_value("ImpressionPhase", d["phase"])
            body.viewable = d["viewable"]
            body.measurable = True
            body.max_visible_fraction = 1.0 if d["viewable"] else 0.2
            body.in_view_ms = 1500 if d["viewable"] else 0
            body.rule = messages.enum_value("ViewabilityRule", "VIEWABILITY_RULE_DISPLAY_50")
        else:
            body.page.x, body.page.y = x + w // 2, y + h // 2
            body.since_viewable_ms = 2000
    elif i.kind == "ad_video":
        v = ev.ad_video
        v.ad.slot_id, v.ad.creative_id, v.ad.campaign_id = d["slot"], d["creative"], d["campaign"]
        v.ad.placement_id = d["placement"]
        v.ad.width, v.ad.height = VIDEO_PLAYER
        v.impression_id = d["impression_id"]
        v.event = messages.enum_value("VideoEvent", d["event"])
        v.audible, v.viewable, v.audible_visible_on_complete = d["audible"], d["viewable"], d["avoc"]
        v.played_ms, v.duration_ms = d["played_ms"], VIDEO_DURATION_MS
        v.in_view_playing_ms = v.in_view_ms = d["in_view_playing_ms"]
        v.player_size = messages.enum_value("PlayerSize", "PLAYER_SIZE_LARGE")
        v.rule = messages.enum_value("ViewabilityRule", "VIEWABILITY_RULE_VIDEO_50")
        v.measurable = True
        v.quartiles, v.audible_quartiles = d["quartiles"], d["audible_quartiles"]
        v.source = messages.enum_value("VideoSource", "VIDEO_SOURCE_ELEMENT")
    elif i.kind == "custom":
        ev.custom.name = d["name"]
        for key, value in d["properties"]:
            prop = ev.custom.properties.add()
            prop.key = key
            if isinstance(value, bool):
                prop.bool_value = value
            elif isinstance(value, int):
                prop.int_value = value
            elif isinstance(value, float):
                prop.number_value = value
            else:
                prop.string_value = value
    else:
        raise ValueError(f"unknown interaction kind {i.kind!r}")


def defect_event(messages, ev, defect: Defect, n: int, client_ts_ms: int, sent_at_ms: int) -> None:
    """An event with exactly one thing wrong (dataset.DEFECT_REASONS); otherwise a valid search."""
    ev.event_id = bytes([0xDE, n]) * 8
    ev.client_ts_ms = client_ts_ms
    ev.search.query = "defect"
    if defect.shape == "no_event_id":
        ev.event_id = b""
    elif defect.shape == "short_event_id":
        ev.event_id = ev.event_id[:8]
    elif defect.shape == "no_kind":
        ev.ClearField("search")
    elif defect.shape == "eight_days_old":
        ev.client_ts_ms = sent_at_ms - EIGHT_DAYS_MS
    elif defect.shape == "an_hour_ahead":
        ev.client_ts_ms = sent_at_ms + 3600_000
    elif defect.shape == "long_search_query":
        ev.search.query = "q" * 5000
    elif defect.shape == "too_many_properties":
        ev.ClearField("search")
        ev.custom.name = "spam"
        for k in range(200):
            prop = ev.custom.properties.add()
            prop.key, prop.int_value = f"p{k}", k
    else:
        raise ValueError(f"unknown defect shape {defect.shape!r}")
