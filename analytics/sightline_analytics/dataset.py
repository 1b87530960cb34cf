"""A deterministic set of interactions and the answers the dashboards must give for it.

The interactions are plain Python objects (`Interaction`); `records()` turns them into the Kafka
records the collector would write (sightline.v1.CollectedEvent, keyed by user, one topic per
kind) and `truth()` computes every dashboard number straight from the interactions, without
protobuf or ClickHouse, so the two paths share nothing but the input.
"""

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

COLLEGES = ["IIT Bombay", "NIT Trichy", "BITS Pilani"]
COHORTS = ["2025", "2026"]
EXPERIMENTS = {"ad_layout": ["control", "sidebar_first"], "cta_color": ["control", "orange"]}
# slot → page rectangle (x, y, width, height) in CSS px
SLOTS = {
    "top_banner": (0, 0, 970, 90),
    "sidebar": (1000, 300, 300, 250),
    "in_feed": (200, 1200, 728, 90),
}
HEATMAP_CELL_PX = 100
FUNNEL_WINDOW_S = 1800
KIND_TOPIC = {
    "page_view": "page_views", "click": "clicks", "scroll": "scrolls", "hover": "hovers",
    "ad_impression": "ad_impressions", "ad_click": "ad_clicks", "search": "searches", "custom": "custom",
}


@dataclass
class User:
    site: str
    anonymous_id: str
    user_id: str
    college: str
    cohort: str
    experiments: dict

    @property
    def key(self) -> str:
        return self.user_id or self.anonymous_id


@dataclass
class Interaction:
    kind: str
    event_id: bytes
    time_ms: int
    user: User
    session_id: str
    page_view_id: bytes
    url: str
    seq: int
    data: dict = field(default_factory=dict)


@dataclass
class Dataset:
    interactions: list
    duplicates: list  # interactions delivered twice (browser retry / spool replay)
    overflow: set  # event ids routed to the overflow topic (hot key)
    rejected: list  # (reason, site) dead letters
    garbage: int  # undecodable records
    days: list


def _id(rng: random.Random) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(16))


def generate(seed: int = 20260301, today: datetime | None = None) -> Dataset:
    rng = random.Random(seed)
    today = (today or datetime.now(timezone.utc)).replace(hour=0, minute=0, second=0, microsecond=0)
    days = [today - timedelta(days=2), today - timedelta(days=1)]
    users = []
    for site, count in (("demo", 36), ("other", 6)):
        for n in range(count):
            identified = n % 3 != 0
            users.append(User(
                site=site,
                anonymous_id=f"anon-{site}-{n:03d}",
                user_id=f"user-{site}-{n:03d}" if identified else "",
                college=COLLEGES[n % len(COLLEGES)],
                cohort=COHORTS[(n // 3) % len(COHORTS)],
                experiments={exp: variants[rng.randrange(len(variants))] for exp, variants in EXPERIMENTS.items()},
            ))
    out: list[Interaction] = []
    for user in users:
        for s in range(rng.randint(1, 3)):
            day = days[rng.randrange(len(days))]
            start = int((day + timedelta(hours=rng.randint(1, 20), minutes=rng.randint(0, 59))).timestamp() * 1000)
            _session(rng, user, f"sess-{user.anonymous_id}-{s}", start, out)
    duplicates = [i for i in out if rng.random() < 0.06]
    overflow = {i.event_id for i in out if i.user.anonymous_id == "anon-demo-004"}
    rejected = [("missing_event_id", "demo"), ("timestamp_out_of_window", "demo"), ("timestamp_out_of_window", "other")]
    return Dataset(out, duplicates, overflow, rejected, garbage=2, days=[d.date() for d in days])


def _session(rng: random.Random, user: User, session_id: str, start_ms: int, out: list) -> None:
    t = start_ms
    seq = 0

    def add(kind, page_view_id, url, **data):
        nonlocal t, seq
        seq += 1
        t += rng.randint(2_000, 90_000)
        # A slow visitor: the next step comes after the funnel window has closed.
        if data.pop("late", False):
            t += (FUNNEL_WINDOW_S + 60) * 1000
        out.append(Interaction(kind, _id(rng), t, user, session_id, page_view_id, url, seq, data))

    pages = ["/"]
    if rng.random() < 0.7:
        pages.append("/search")
    pages += [f"/courses/c{rng.randint(1, 9)}" for _ in range(rng.randint(0, 2))]
    if rng.random() < 0.3:
        pages.append("/about")
    late = rng.random() < 0.15
    for path in pages:
        pv = _id(rng)
        url = f"https://{user.site}.example{path}"
        add("page_view", pv, url, navigation="NAVIGATION_LOAD", page_height=2400, late=late and path.startswith("/courses"))
        if path == "/search":
            add("search", pv, url, query=rng.choice(["python", "data science", "mba"]), results_count=rng.randint(0, 40))
        add("scroll", pv, url, depth_pct=rng.choice([25, 50, 75, 100]))
        if rng.random() < 0.5:
            add("click", pv, url, selector="main>a.course", tag="a", page_x=rng.randint(0, 1200), page_y=rng.randint(0, 2000))
        if rng.random() < 0.3:
            add("hover", pv, url, selector="aside>div.ad", dwell_ms=rng.randint(100, 4000), slot="sidebar")
        for slot in SLOTS:
            if rng.random() < 0.25:
                continue
            imp = _id(rng)
            viewable = rng.random() < 0.7
            ad = {"slot": slot, "creative": f"cr-{slot}-{rng.randint(1, 2)}", "campaign": "spring", "impression_id": imp}
            if viewable:
                add("ad_impression", pv, url, phase="IMPRESSION_PHASE_VIEWABLE", viewable=True, **ad)
            clicks = 0
            if viewable and rng.random() < 0.3:
                clicks = 2 if rng.random() < 0.15 else 1  # a double click is two clicks on one impression
            for _ in range(clicks):
                add("ad_click", pv, url, **ad)
            # The user sometimes leaves before the page hides: no FINAL phase for that impression.
            if not viewable or rng.random() < 0.8:
                add("ad_impression", pv, url, phase="IMPRESSION_PHASE_FINAL", viewable=viewable, **ad)
    if rng.random() < 0.4:
        add("custom", _id(rng), f"https://{user.site}.example/", name="enroll",
            properties=[("plan", "pro"), ("seats", 3), ("trial", True), ("price", 12.5)])


# ── records, as the collector writes them ─────────────────────────────────────────────────────

def collected_event(messages, i: Interaction):
    ce = messages.CollectedEvent()
    ev = ce.event
    ev.event_id = i.event_id
    ev.client_ts_ms = i.time_ms - 250
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
    ce.kind = messages.enum_value("EventKind", "EVENT_KIND_" + i.kind.upper())
    ce.site_key = i.user.site
    ce.sdk_version = "0.1.0"
    ce.context.url = i.url
    ce.context.viewport_width, ce.context.viewport_height = 1366, 768
    ce.context.locale = "en-IN"
    ce.context.timezone_offset_min = 330
    ce.identity.anonymous_id = i.user.anonymous_id
    ce.identity.user_id = i.user.user_id
    ce.identity.session_id = i.session_id
    ce.identity.page_session_id = i.session_id + "-p"
    ce.identity.traits["college"] = i.user.college
    ce.identity.traits["cohort"] = i.user.cohort
    for exp, variant in i.user.experiments.items():
        ce.experiments[exp] = variant
    ce.batch_seq = i.seq
    ce.user_key = i.user.key
    ce.received_at_ms = i.time_ms + 40
    ce.event_time_ms = i.time_ms
    ce.client_sent_at_ms = i.time_ms - 200
    ce.client_ip = "203.0.113.0"
    ce.user_agent = "Mozilla/5.0 (X11; Linux x86_64)"
    ce.collector_id = "test-collector"
    return ce


def records(messages, data: Dataset, prefix: str = "sightline.") -> list:
    """(topic, key, value) for every Kafka record: events, duplicates, dead letters, garbage."""
    out = []
    for i in data.interactions + data.duplicates:
        topic = "overflow" if i.event_id in data.overflow else KIND_TOPIC[i.kind]
        out.append((prefix + topic, i.user.key.encode(), collected_event(messages, i).SerializeToString()))
    for n, (reason, site) in enumerate(data.rejected):
        rej = messages.RejectedEvent()
        rej.reason, rej.detail, rej.site_key = reason, f"test dead letter {n}", site
        rej.received_at_ms = int(datetime.combine(data.days[0], datetime.min.time(), timezone.utc).timestamp() * 1000) + n
        out.append((prefix + "rejected", site.encode(), rej.SerializeToString()))
    for n in range(data.garbage):
        out.append((prefix + "clicks", b"garbage", b"\xff\xffnot a protobuf message" + bytes([n])))
    return out


# ── ground truth, from the interactions only ──────────────────────────────────────────────────

def _day(i: Interaction) -> str:
    return datetime.fromtimestamp(i.time_ms / 1000, timezone.utc).date().isoformat()


def truth(data: Dataset, site: str = "demo") -> dict:
    ev = [i for i in data.interactions if i.user.site == site]
    imps = [i for i in ev if i.kind == "ad_impression"]
    clicks = [i for i in ev if i.kind == "ad_click"]

    counts = defaultdict(int)
    for i in ev:
        counts[(_day(i), i.kind)] += 1

    def ad_groups(dims):
        g = defaultdict(lambda: {"impressions": set(), "viewable": set(), "clicks": set(), "clicked": set()})
        for i in imps:
            row = g[dims(i)]
            row["impressions"].add(i.data["impression_id"])
            if i.data["viewable"]:
                row["viewable"].add(i.data["impression_id"])
        for i in clicks:
            row = g[dims(i)]
            row["clicks"].add(i.event_id)
            row["clicked"].add(i.data["impression_id"])
        return {k: {n: len(v) for n, v in row.items()} for k, row in g.items()}

    def cell(i):
        x, y, w, h = SLOTS[i.data["slot"]]
        return ((x + w // 2) // HEATMAP_CELL_PX, (y + h // 2) // HEATMAP_CELL_PX)

    ab = defaultdict(lambda: {"users": set(), "impressions": set(), "clicks": set(), "clicked": set()})
    for i in imps + clicks:
        for exp, variant in i.user.experiments.items():
            row = ab[(exp, variant)]
            row["users"].add(i.user.key)
            if i.kind == "ad_impression":
                row["impressions"].add(i.data["impression_id"])
            else:
                row["clicks"].add(i.event_id)
                row["clicked"].add(i.data["impression_id"])

    return {
        "counts": dict(counts),
        "by_college_cohort": ad_groups(lambda i: (i.user.college, i.user.cohort)),
        "by_slot_day": ad_groups(lambda i: (_day(i), i.data["slot"])),
        "heatmap": ad_groups(cell),
        "funnel": _funnel(ev),
        "ab": {k: {n: len(v) for n, v in row.items()} for k, row in ab.items()},
        "rejected": _count(r for r, s in data.rejected if s == site),
    }


def _count(items) -> dict:
    out = defaultdict(int)
    for item in items:
        out[item] += 1
    return dict(out)


def _funnel(ev: list) -> dict:
    """Sessions reaching each step of search → course view → ad click within the window,
    counted the way windowFunnel defines it: a chain of strictly later events that starts at a
    search and ends no later than the window after that search."""
    steps = defaultdict(list)
    for i in ev:
        if i.kind == "search":
            steps[i.session_id].append((i.time_ms, 1))
        elif i.kind == "page_view" and "/courses/" in i.url:
            steps[i.session_id].append((i.time_ms, 2))
        elif i.kind == "ad_click":
            steps[i.session_id].append((i.time_ms, 3))
    reached = defaultdict(int)
    for session, events in steps.items():
        events.sort()
        best = 0
        for start, step in events:
            if step != 1:
                continue
            level, last = 1, start
            for t, s in events:
                if t > last and s == level + 1 and t - start <= FUNNEL_WINDOW_S * 1000:
                    level, last = s, t
            best = max(best, level)
        for level in range(1, best + 1):
            reached[level] += 1
    return {"sessions": len(steps), "reached": dict(reached)}
