"""A deterministic set of interactions, how a browser would deliver them, and the answers the
dashboards must give for them.

The interactions are plain Python objects (`Interaction`) grouped into the batches a browser
would send (`PlannedBatch`: one per page view, as the SDK starts a new batch when the page or
the identity changes), with some batches delivered twice and some carrying events the collector
must reject (`Defect`). `sdk_batches.py` turns the plan into sightline.v1.Batch messages for the
collector; `truth()` computes every dashboard number straight from the interactions, without
protobuf, the collector or ClickHouse, so the two paths share nothing but the input.

Times: `Interaction.time_ms` is when the interaction happened on a correct clock. The browser
sends it on its own, skewed clock (`User.clock_skew_ms`) together with its clock's `sent_at`, and
the collector computes event_time = received_at - (sent_at - client_ts), which is time_ms plus
the request's transit time. `check_unambiguous()` proves that no shift below TIME_TOLERANCE_MS
can move an event to another day, reorder a session or move a funnel step across the window, so
the truth does not depend on the collector's clock; the test checks that every shift was below.
"""

import itertools
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from . import kinds

COLLEGES = ["IIT Bombay", "NIT Trichy", "BITS Pilani"]
COHORTS = ["2025", "2026"]
EXPERIMENTS = {"ad_layout": ["control", "sidebar_first"], "cta_color": ["control", "orange"]}
# slot → page rectangle (x, y, width, height) in CSS px
CAMPAIGNS = ("spring", "autumn")
SLOTS = {
    "top_banner": (0, 0, 970, 90),
    "sidebar": (1000, 300, 300, 250),
    "in_feed": (200, 1200, 728, 90),
}
HEATMAP_CELL_PX = 100
FUNNEL_WINDOW_S = 1800
# Largest difference allowed between an event's true time and the collector's corrected time
# (the request's transit from stamping sent_at to the collector reading its clock; a resent batch
# keeps its sent_at, so its copy also carries the first request's round trip).
TIME_TOLERANCE_MS = 5_000
# Steps of one session are at least this far apart, so a shift below the tolerance cannot
# reorder them.
MIN_STEP_GAP_MS = 6_000
# Clock error of the users' browsers: the collector's correction must cancel it.
CLOCK_SKEWS_MS = [0, 2 * 3600_000, -(3 * 3600_000 + 17 * 60_000), 45_000, -1_500]
HOT_USER = "anon-demo-004"
RESEND_SHARE = 0.06


@dataclass
class User:
    site: str
    anonymous_id: str
    user_id: str
    college: str
    cohort: str
    experiments: dict
    clock_skew_ms: int = 0
    # Invalid traffic this user injects ("" = a person): "givt" is a declared-automation
    # browser (webdriver), "sivt" a click fraudster (ad clicks with no impression shown).
    traffic: str = ""

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
class Defect:
    """An event the collector must reject with `reason` (its documented code). `shape` says what
    is wrong with it (see sdk_batches.defect_event)."""

    shape: str
    reason: str
    site: str


# shape → the collector's reason code (collector/README.md, "Per-event rejections")
DEFECT_REASONS = {
    "no_event_id": "missing_event_id",
    "short_event_id": "invalid_event_id",
    "no_kind": "missing_payload",
    "eight_days_old": "timestamp_out_of_window",
    "an_hour_ahead": "timestamp_out_of_window",
    "long_search_query": "string_too_long",
    "too_many_properties": "too_many_properties",
}


@dataclass
class PlannedBatch:
    """One POST /v1/batch: events of one page view of one session, in order."""

    user: User
    session_id: str
    url: str
    batch_seq: int
    interactions: list
    defects: list = field(default_factory=list)
    resend: bool = False  # delivered twice with the same bytes (lost response, browser retry)

    @property
    def event_count(self) -> int:
        return len(self.interactions) + len(self.defects)


@dataclass
class Dataset:
    interactions: list
    batches: list
    garbage: int  # undecodable records (produced straight to Kafka: the collector never writes one)
    days: list

    @property
    def duplicates(self) -> list:
        """Interactions delivered twice."""
        return [i for b in self.batches if b.resend for i in b.interactions]

    @property
    def overflow(self) -> set:
        """Event ids the collector routes to the overflow topic: the hot user's batch is larger
        than the hot-user burst (hot_user_burst()), which no other user's total reaches."""
        return {i.event_id for b in self.batches if b.user.anonymous_id == HOT_USER for i in b.interactions}

    @property
    def defects(self) -> list:
        return [d for b in self.batches for d in b.defects]

    def events_sent_by_user(self) -> dict:
        """Events each user sends in total, resends included (what the hot-user limiter counts
        per user key), by anonymous id."""
        out = defaultdict(int)
        for b in self.batches:
            out[b.user.anonymous_id] += b.event_count * (2 if b.resend else 1)
        return dict(out)

    def hot_user_burst(self) -> int:
        """A hot-user burst no regular user reaches even with no refill, and the hot user's one
        batch exceeds: the limiter then overflows exactly the hot user's events, whatever the timing."""
        regular = [n for anonymous_id, n in self.events_sent_by_user().items() if anonymous_id != HOT_USER]
        return max(regular)


def _id(rng: random.Random) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(16))


def generate(seed: int = 20260301, today: datetime | None = None) -> Dataset:
    rng = random.Random(seed)
    today = (today or datetime.now(UTC)).replace(hour=0, minute=0, second=0, microsecond=0)
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
                clock_skew_ms=CLOCK_SKEWS_MS[n % len(CLOCK_SKEWS_MS)],
            ))
    batches: list[PlannedBatch] = []
    hot = None
    for user in users:
        if user.anonymous_id == HOT_USER:
            hot = user
            continue
        for s in range(rng.randint(1, 3)):
            day = days[rng.randrange(len(days))]
            # Sessions start 01:00–18:59 UTC and last at most a few hours: every event is hours
            # away from a day boundary and in the past.
            start = int((day + timedelta(hours=rng.randint(1, 18), minutes=rng.randint(0, 59))).timestamp() * 1000)
            _session(rng, user, f"sess-{user.anonymous_id}-{s}", start, batches)
    for b in batches:
        b.resend = rng.random() < RESEND_SHARE
    _add_defects(batches)
    _add_invalid_traffic(seed, days, batches)
    _add_video_sessions(seed, days, users, batches)
    if hot is not None:
        start = int((days[1] + timedelta(hours=9)).timestamp() * 1000)
        _hot_session(rng, hot, start, batches, clicks=Dataset([], batches, 0, []).hot_user_burst() + 20)
    interactions = [i for b in batches for i in b.interactions]
    return Dataset(interactions, batches, garbage=2, days=[d.date() for d in days])


# Video ads (issue 20): slot → placement. 640 x 360 players (large by width; under the 242,500 px²
# of the 30 % rule). Each impression's messages follow the SDK's (sdk-wasm/js/modules/video.js):
# START, each quartile reached, VIEWABLE once the MRC video rule is met, COMPLETE, and a FINAL
# with the totals that the page may not get to send; every message carries the totals so far.
VIDEO_SLOTS = {"course-preroll": "preroll", "search-in-feed-video": "in_feed_video"}
VIDEO_PLAYER = (640, 360)
VIDEO_DURATION_MS = 30_000
VIDEO_EVENTS = ["VIDEO_EVENT_START", "VIDEO_EVENT_FIRST_QUARTILE", "VIDEO_EVENT_MIDPOINT",
                "VIDEO_EVENT_THIRD_QUARTILE", "VIDEO_EVENT_COMPLETE"]


def _add_video_sessions(seed: int, days: list, users: list, batches: list) -> None:
    """Every regular demo user watches video ads in a session of its own: one page view,
    then one or two video impressions, each stopping at a random depth (start … complete),
    viewable or not, audible throughout or muted. Their own random stream, so the rest of the
    dataset does not change; the truth is in `video_truth()`."""
    rng = random.Random(seed + 29)
    viewers = [u for u in users if u.site == "demo" and not u.traffic and u.anonymous_id != HOT_USER]
    for user in viewers:
        session_id = f"sess-{user.anonymous_id}-video"
        url = f"https://{user.site}.example/watch"
        day = days[rng.randrange(len(days))]
        t = int((day + timedelta(hours=rng.randint(1, 18), minutes=rng.randint(0, 59))).timestamp() * 1000)
        pv = _id(rng)
        batch = PlannedBatch(user, session_id, url, 1, [])
        batch.resend = rng.random() < RESEND_SHARE * 3  # redelivered: the counts must not move
        batch.interactions.append(Interaction("page_view", _id(rng), t, user, session_id, pv, url, 1,
                                              {"navigation": "NAVIGATION_LOAD", "page_height": 2400}))
        for _ in range(rng.randint(1, 2)):
            slot = rng.choice(sorted(VIDEO_SLOTS))
            imp = {"slot": slot, "placement": VIDEO_SLOTS[slot], "creative": f"cr-{slot}-1", "campaign": CAMPAIGNS[0],
                   "impression_id": _id(rng)}
            depth = rng.randint(0, 4)  # the last quartile bit reached: 0 start … 4 complete
            viewable = rng.random() < 0.7
            audible = rng.random() < 0.6
            avoc = depth == 4 and viewable and audible
            in_view = rng.randint(2000, VIDEO_DURATION_MS) if viewable else rng.randint(0, 1900)
            steps = [(VIDEO_EVENTS[bit], (1 << (bit + 1)) - 1) for bit in range(depth + 1)]
            if viewable:
                steps.insert(min(2, len(steps)), ("VIDEO_EVENT_VIEWABLE", steps[min(2, len(steps)) - 1][1]))
            if rng.random() < 0.8:  # the FINAL may be lost at page hide
                steps.append(("VIDEO_EVENT_FINAL", steps[-1][1]))
            seen_viewable = False
            for n, (event, bits) in enumerate(steps, start=1):
                t += rng.randint(MIN_STEP_GAP_MS, 15_000)
                seen_viewable = seen_viewable or event == "VIDEO_EVENT_VIEWABLE"
                batch.interactions.append(Interaction("ad_video", _id(rng), t, user, session_id, pv, url,
                                                      len(batch.interactions) + 1, {
                    **imp, "event": event, "quartiles": bits, "audible": audible,
                    "audible_quartiles": bits if audible else 0, "viewable": seen_viewable,
                    "avoc": avoc and bits == 31,
                    # The totals so far; the last message has the impression's final ones.
                    "in_view_playing_ms": in_view if n == len(steps) else in_view * n // (len(steps) + 1),
                    "played_ms": min(VIDEO_DURATION_MS, VIDEO_DURATION_MS * (bits.bit_length() - 1) // 4),
                }))
        batches.append(batch)


def video_truth(data: Dataset, site: str = "demo") -> dict:
    """(slot, college, cohort) → what video_quartile_funnel must show for the generated video
    impressions: impressions, the quartile funnel, viewable and AVOC impressions (as counts) and
    the average time in view while playing of each impression's last message."""
    out = defaultdict(lambda: defaultdict(int))
    last = {}
    for i in data.interactions:
        if i.kind == "ad_video" and i.user.site == site:
            key = (i.user.anonymous_id, i.data["impression_id"])
            if key not in last or i.seq > last[key].seq:
                last[key] = i
    names = ["started", "first_quartile", "midpoint", "third_quartile", "completed"]
    for i in last.values():
        row = out[(i.data["slot"], i.user.college, i.user.cohort)]
        row["impressions"] += 1
        for bit, name in enumerate(names):
            row[name] += bool(i.data["quartiles"] & (1 << bit))
        row["viewable_impressions"] += i.data["viewable"]
        row["avoc_impressions"] += i.data["avoc"]
        row["in_view_sum"] += i.data["in_view_playing_ms"]
    return {k: dict(v) for k, v in out.items()}


# Invalid traffic injected into the demo site, and the reason the collector must give each.
IVT_USERS = {"anon-demo-bot": ("givt", "automation"), "anon-demo-fraud": ("sivt", "click_without_impression")}


def _add_invalid_traffic(seed: int, days: list, batches: list) -> None:
    """A headless browser that declares automation (a whole ordinary session: page views,
    impressions, clicks) and a click fraudster (ad clicks on impressions never shown), on the
    demo site. Their own random stream, so the rest of the dataset does not change."""
    rng = random.Random(seed + 17)
    for anonymous_id, (traffic, _) in IVT_USERS.items():
        user = User("demo", anonymous_id, "", COLLEGES[0], COHORTS[0],
                    {exp: variants[0] for exp, variants in EXPERIMENTS.items()}, traffic=traffic)
        start = int((days[0] + timedelta(hours=rng.randint(2, 12))).timestamp() * 1000)
        if traffic == "givt":
            for s in range(3):
                _session(rng, user, f"sess-{anonymous_id}-{s}", start + s * 3_600_000, batches)
        else:
            _fraud_session(rng, user, start, batches)


def _fraud_session(rng: random.Random, user: User, start_ms: int, batches: list) -> None:
    """One page view, then clicks on every slot's ad with impression ids nobody was shown."""
    session_id = f"sess-{user.anonymous_id}"
    url = f"https://{user.site}.example/search"
    pv = _id(rng)
    batch = PlannedBatch(user, session_id, url, 1, [])
    t = start_ms
    batch.interactions.append(Interaction("page_view", _id(rng), t, user, session_id, pv, url, 1,
                                          {"navigation": "NAVIGATION_LOAD", "page_height": 2400}))
    for n, slot in enumerate(sorted(SLOTS) * 2):
        t += MIN_STEP_GAP_MS
        ad = {"slot": slot, "creative": f"cr-{slot}-1", "campaign": "spring", "impression_id": _id(rng)}
        batch.interactions.append(Interaction("ad_click", _id(rng), t, user, session_id, pv, url, n + 2, ad))
    batches.append(batch)


def ivt_truth(data: Dataset, site: str = "demo") -> dict:
    """(day, slot, class, reason) → impressions and clicks of the injected invalid traffic:
    what the IVT report must show (ad events only; the bot's other events count under slot '')."""
    out = defaultdict(lambda: {"impressions": set(), "clicks": set()})
    for i in data.interactions:
        if i.user.site != site or not i.user.traffic or i.kind not in ("ad_impression", "ad_click"):
            continue
        traffic, reason = IVT_USERS[i.user.anonymous_id]
        row = out[(_day(i), i.data["slot"], traffic, reason)]
        if i.kind == "ad_impression":
            row["impressions"].add(i.data["impression_id"])
        else:
            row["clicks"].add(i.event_id)
    return {k: {n: len(v) for n, v in row.items()} for k, row in out.items()}


def _add_defects(batches: list) -> None:
    """One event of each defect shape in a batch of a demo user (the out-of-window one also on
    the other site); never in a resent batch, so each dead letter is written once."""
    candidates = {site: [b for b in batches if b.user.site == site and not b.resend] for site in ("demo", "other")}
    for n, shape in enumerate(DEFECT_REASONS):
        pick = candidates["demo"][(n * 7) % len(candidates["demo"])]
        pick.defects.append(Defect(shape, DEFECT_REASONS[shape], "demo"))
    candidates["other"][0].defects.append(Defect("eight_days_old", DEFECT_REASONS["eight_days_old"], "other"))


def _session(rng: random.Random, user: User, session_id: str, start_ms: int, batches: list) -> None:
    t = start_ms
    seq = 0
    searches: list[int] = []
    batch: PlannedBatch | None = None

    def add(kind, page_view_id, url, **data):
        nonlocal t, seq
        seq += 1
        t += rng.randint(MIN_STEP_GAP_MS, 90_000)
        # A slow visitor: the next step comes after the funnel window has closed.
        if data.pop("late", False):
            t += (FUNNEL_WINDOW_S + 60) * 1000
        is_step = kind == "ad_click" or (kind == "page_view" and "/courses/" in url)
        # Keep every search → step distance clear of the window edge by more than the tolerance.
        while is_step and any(abs(t - s - FUNNEL_WINDOW_S * 1000) <= TIME_TOLERANCE_MS for s in searches):
            t += 2 * TIME_TOLERANCE_MS
        if kind == "search":
            searches.append(t)
        batch.interactions.append(Interaction(kinds.checked(kind), _id(rng), t, user, session_id, page_view_id, url, seq, data))

    def new_batch(url):
        nonlocal batch
        batch = PlannedBatch(user, session_id, url, len([b for b in batches if b.session_id == session_id]) + 1, [])
        batches.append(batch)

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
        new_batch(url)
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
            creative = rng.randint(1, 2)
            # Two campaigns (the dashboard's campaign filter), one per creative of a slot.
            ad = {"slot": slot, "creative": f"cr-{slot}-{creative}", "campaign": CAMPAIGNS[creative - 1], "impression_id": imp}
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
        url = f"https://{user.site}.example/"
        new_batch(url)
        add("custom", _id(rng), url, name="enroll", properties=[("plan", "pro"), ("seats", 3), ("trial", True), ("price", 12.5)])


def _hot_session(rng: random.Random, user: User, start_ms: int, batches: list, clicks: int) -> None:
    """A script hammering one page: one batch with more events than the hot-user burst."""
    session_id = f"sess-{user.anonymous_id}-bot"
    url = f"https://{user.site}.example/search"
    pv = _id(rng)
    batch = PlannedBatch(user, session_id, url, 1, [])
    t = start_ms
    batch.interactions.append(Interaction("page_view", _id(rng), t, user, session_id, pv, url, 1,
                                          {"navigation": "NAVIGATION_LOAD", "page_height": 2400}))
    for n in range(clicks):
        t += MIN_STEP_GAP_MS
        batch.interactions.append(Interaction("click", _id(rng), t, user, session_id, pv, url, n + 2,
                                              {"selector": "main>button.more", "tag": "button", "page_x": 600, "page_y": 1900}))
    batches.append(batch)


# ── the dataset's own guarantees ──────────────────────────────────────────────────────────────

def check_unambiguous(data: Dataset, tolerance_ms: int = TIME_TOLERANCE_MS) -> list[str]:
    """Problems that would let a time shift below `tolerance_ms` change a dashboard number."""
    problems = []
    by_session = defaultdict(list)
    for i in data.interactions:
        by_session[i.session_id].append(i)
        into_day = i.time_ms % 86_400_000
        if into_day < tolerance_ms or 86_400_000 - into_day <= tolerance_ms:
            problems.append(f"{i.event_id.hex()} is {into_day} ms into its day")
    for session, events in by_session.items():
        times = sorted(i.time_ms for i in events)
        problems += [f"{session}: steps {b - a} ms apart" for a, b in itertools.pairwise(times) if b - a <= tolerance_ms]
        searches = [i.time_ms for i in events if i.kind == "search"]
        steps = [i.time_ms for i in events if _funnel_step(i) > 1]
        problems += [f"{session}: a step {t - s} ms after a search" for s in searches for t in steps
                     if abs(t - s - FUNNEL_WINDOW_S * 1000) <= tolerance_ms]
    return problems


# ── ground truth, from the interactions only ──────────────────────────────────────────────────

def _day(i: Interaction) -> str:
    return datetime.fromtimestamp(i.time_ms / 1000, UTC).date().isoformat()


def truth(data: Dataset, site: str = "demo", valid_only: bool = True) -> dict:
    """Event counts cover all traffic; the ad numbers (CTR, heatmap, A/B) valid traffic only,
    as the dashboards count them (`valid_only=False`: with the injected invalid traffic)."""
    ev = [i for i in data.interactions if i.user.site == site]
    ads = [i for i in ev if not (valid_only and i.user.traffic)]
    imps = [i for i in ads if i.kind == "ad_impression"]
    clicks = [i for i in ads if i.kind == "ad_click"]

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
        "by_campaign_college_cohort": ad_groups(lambda i: (i.data["campaign"], i.user.college, i.user.cohort)),
        "by_slot_day": ad_groups(lambda i: (_day(i), i.data["slot"])),
        "heatmap": ad_groups(cell),
        "funnel": _funnel(ev),
        "ab": {k: {n: len(v) for n, v in row.items()} for k, row in ab.items()},
        "rejected": _count(d.reason for d in data.defects if d.site == site),
    }


def _count(items) -> dict:
    out = defaultdict(int)
    for item in items:
        out[item] += 1
    return dict(out)


def _funnel_step(i: Interaction) -> int:
    if i.kind == "search":
        return 1
    if i.kind == "page_view" and "/courses/" in i.url:
        return 2
    if i.kind == "ad_click":
        return 3
    return 0


def _funnel(ev: list) -> dict:
    """Sessions reaching each step of search → course view → ad click within the window,
    counted the way windowFunnel defines it: a chain of strictly later events that starts at a
    search and ends no later than the window after that search."""
    steps = defaultdict(list)
    for i in ev:
        if _funnel_step(i):
            steps[i.session_id].append((i.time_ms, _funnel_step(i)))
    reached = defaultdict(int)
    for events in steps.values():
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
