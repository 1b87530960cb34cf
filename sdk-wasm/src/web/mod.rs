//! The browser layer: one `Sdk` per page, reached by handlers and API calls through
//! [`with_sdk`]. Handlers record; `schedule_send` moves encoding and sending to a task of
//! its own, off the interaction path. The DOM plumbing is `js/dom.js` (see `js`); every
//! event and timer arrives through `dispatch`.

mod ads;
mod api;
mod capture;
mod dispatch;
#[cfg(test)]
mod dom_tests;
mod element;
mod env;
mod js;
mod storage;
mod transport;

use alloc::{string::String, vec::Vec};
use core::cell::RefCell;

use crate::boundary::{report, tcf};
use crate::core::{
    batch::{BatchQueue, Header, Limits},
    config::{self, Config},
    delivery::{Delivery, Io, Timer},
    event::{Context, Identity, Kind, Navigation, Pairs, encode_event, set_pair},
    privacy::{self, MINOR, STORAGE},
    schema::{consent_source, privacy_mode},
    scroll::ScrollDepth,
    session::Session,
    url,
};
use capture::hover::Hovering;

/// What a timer started through `env::set_timeout` is for (its `key` says which slot).
pub mod timers {
    pub const SEND: u32 = 0;
    pub const RETRY: u32 = 1;
    pub const AD_SCAN: u32 = 2;
    pub const AD_VIEWABILITY: u32 = 3;
}

const KEY_ANONYMOUS_ID: &str = "sl_aid";
const KEY_SESSION: &str = "sl_sid";

/// The one SDK instance of the page. A plain static (the wasm build is no_std, so no
/// `thread_local!`): wasm32-unknown-unknown without the atomics feature has exactly one
/// thread, which is what makes the `Sync` claim below true.
struct Global(RefCell<Option<Sdk>>);
// SAFETY: single-threaded target (no `atomics`); the value never crosses threads.
unsafe impl Sync for Global {}
static SDK: Global = Global(RefCell::new(None));

/// Runs `f` on the SDK if it is initialized (and not already borrowed by an outer call,
/// which would mean re-entrancy from the host page: ignored rather than panicking).
pub fn with_sdk<R>(f: impl FnOnce(&mut Sdk) -> R) -> Option<R> {
    SDK.0.try_borrow_mut().ok()?.as_mut().map(f)
}

/// The browser's side of `core::delivery::Io`: fetch/sendBeacon (`transport`), the durable
/// queue (`storage::queue`), timers and clocks (`env`). A field of `Sdk`, so handing it to
/// `Delivery` is a pointer (a temporary built per call cost ~190 B gzip of stack traffic).
pub struct WebIo {
    endpoint: String,
    pub random: env::Random,
    debug: bool,
}

impl Io for WebIo {
    fn send(&mut self, body: &[u8], request_id: u32) -> bool {
        transport::send(&self.endpoint, body, request_id, false)
    }
    fn beacon(&mut self, body: &[u8]) -> bool {
        transport::send(&self.endpoint, body, 0, true)
    }
    fn put(&mut self, body: &[u8], at_exit: bool) {
        storage::queue::put(body, at_exit);
    }
    fn take_next(&mut self, delivered: bool) {
        storage::queue::next(delivered);
    }
    fn release(&mut self) {
        storage::queue::release();
    }
    fn clear(&mut self) {
        storage::queue::clear();
    }
    fn take_evicted(&mut self) -> u32 {
        storage::queue::take_evicted()
    }
    fn signals(&mut self) -> u32 {
        env::signals()
    }
    fn set_timer(&mut self, delay_ms: u64, timer: Timer) -> Option<i32> {
        let purpose = match timer {
            Timer::Send => timers::SEND,
            Timer::Retry => timers::RETRY,
        };
        env::set_timeout(delay_ms as f64, purpose, 0)
    }
    fn clear_timer(&mut self, handle: i32) {
        env::clear_timeout(handle);
    }
    fn now_ms(&mut self) -> i64 {
        env::now_ms() as i64
    }
    fn jitter(&mut self) -> f64 {
        self.random.unit()
    }
    fn report(&mut self, code: u32) {
        env::report(self.debug, code);
    }
}

/// `(&mut sdk.delivery, &mut sdk.io)`: disjoint fields of `sdk`, so the caller may still read
/// the others (the header borrows the identity while delivery runs).
macro_rules! delivery {
    ($sdk:expr) => {
        (&mut $sdk.delivery, &mut $sdk.io)
    };
}

pub struct Sdk {
    pub cfg: Config,
    opted_out: bool,
    anonymous_id: String,
    user_id: String,
    traits: Pairs,
    experiments: Pairs,
    session: Session,
    page_session_id: String,
    seq: u64,
    page_view_id: Vec<u8>,
    /// The sanitized URL reported for the current page view.
    page_url: String,
    /// The current page view's full URL without fragment (see `url::page_key`).
    page_key: String,
    context: Context,
    /// Consent purposes and the identity mode they decide (`core::privacy`).
    privacy: u32,
    /// Batching, sending, retries and the durable queue (`core::delivery`).
    delivery: Delivery,
    /// The browser for `delivery`, and the page's random ids.
    pub io: WebIo,
    pub scroll: ScrollDepth,
    pub scroll_frame_pending: bool,
    pub hovering: Option<Hovering>,
    pub ads: ads::Ads,
}

impl Sdk {
    #[inline(never)]
    fn new(cfg: Config) -> Sdk {
        let mut random = env::Random::new();
        let privacy = privacy::apply(privacy::DEFAULT, cfg.privacy, consent_source::DEFAULT);
        let persistent = storage::persist(privacy);
        forget_stored_ids(privacy);
        let anonymous_id = stored_anonymous_id(random.hex_id());
        // Cookieless and restricted pages read nothing (the gate): a session per page load.
        let session = storage::get(KEY_SESSION)
            .and_then(|stored| Session::parse(&stored))
            .unwrap_or_else(|| Session {
                id: random.hex_id(),
                last_activity_ms: env::now_ms(),
            });
        let opted_out = storage::opted_out();
        let blocked_by_browser = cfg.respect_do_not_track && env::do_not_track();
        let sampled = config::sampled_in(&anonymous_id, cfg.sample_rate);
        if blocked_by_browser {
            env::report(cfg.debug, report::DO_NOT_TRACK);
        }
        let limits = Limits {
            max_events: cfg.max_events,
            max_bytes: cfg.max_bytes,
            max_outbox_batches: config::MAX_OUTBOX_BATCHES,
        };
        let mut endpoint = String::from(cfg.endpoint.trim_end_matches('/'));
        if !endpoint.ends_with("/v1/batch") {
            endpoint.push_str("/v1/batch");
        }
        Sdk {
            delivery: Delivery::new(
                BatchQueue::new(&cfg.site_key, limits),
                privacy::delivery_consent(privacy),
                opted_out || blocked_by_browser || !sampled,
                persistent,
            ),
            opted_out,
            anonymous_id,
            user_id: String::new(),
            traits: Pairs::new(),
            experiments: Pairs::new(),
            session,
            page_session_id: random.hex_id(),
            seq: 0,
            page_view_id: Vec::new(),
            page_url: String::new(),
            page_key: String::new(),
            context: Default::default(),
            privacy,
            io: WebIo {
                endpoint,
                random,
                debug: cfg.debug,
            },
            scroll: ScrollDepth::default(),
            scroll_frame_pending: false,
            hovering: None,
            ads: ads::Ads::default(),
            cfg,
        }
    }

    fn capturing(&self) -> bool {
        self.delivery.capturing()
    }

    /// Appends one event to the open batch. The only work done on the interaction path.
    pub fn record(&mut self, kind: Kind) {
        // Restricted (a minor): page views and ad measurement only, no behaviour.
        let restricted = self.privacy & MINOR != 0
            && !matches!(
                kind,
                Kind::PageView { .. } | Kind::AdImpression(_) | Kind::AdClick(_) | Kind::AdVideo(_)
            );
        if !self.capturing() || restricted {
            return;
        }
        let now = env::now_ms();
        let random = &mut self.io.random;
        if self.session.touch(now, || random.hex_id()) {
            self.refresh_header();
        }
        self.seq += 1;
        let event_id = self.io.random.id();
        let event = encode_event(&event_id, now as i64, self.seq, &self.page_view_id, &kind);
        let (delivery, io) = delivery!(self);
        delivery.record(io, &event);
    }

    /// Closes the open batch when the context or identity changed.
    /// What leaves the browser depends on the mode (docs/privacy.md): everything when
    /// persistent; no anonymous or user id and no traits when cookieless (the collector derives
    /// a visitor id); when restricted only the page-session id, no experiments either.
    fn refresh_header(&mut self) {
        let mode = privacy::mode(self.privacy);
        let persistent = mode == privacy_mode::PERSISTENT;
        let restricted = mode == privacy_mode::RESTRICTED;
        let header = Header {
            context: &self.context,
            identity: Identity {
                anonymous_id: if persistent { &self.anonymous_id } else { "" },
                user_id: if persistent { &self.user_id } else { "" },
                session_id: if restricted { "" } else { &self.session.id },
                page_session_id: &self.page_session_id,
                traits: if persistent { &self.traits } else { &[] },
            },
            experiments: if restricted { &[] } else { &self.experiments },
            privacy: self.privacy,
        };
        let (delivery, io) = delivery!(self);
        delivery.set_header(io, &header);
    }

    /// Called after history changes; a new page view only when the URL (query included,
    /// fragment excluded) changed, compared before sanitizing.
    pub fn on_url_change(&mut self, navigation: Navigation) {
        if url::is_new_page(&self.page_key, &capture::page::location_href()) {
            self.start_page_view(navigation);
        }
    }

    pub fn start_page_view(&mut self, navigation: Navigation) {
        let first = self.page_view_id.is_empty();
        if !first {
            self.end_page_view();
        }
        let href = capture::page::location_href();
        let url = url::sanitize(&href, &self.cfg.query_allowlist);
        self.page_key = url::page_key(&href).into();
        let referrer = if first {
            url::origin_and_path(&capture::page::referrer())
        } else {
            url::origin_and_path(&self.page_url)
        };
        self.page_view_id = self.io.random.id();
        self.context = capture::page::read_context(url.clone(), referrer.clone());
        self.refresh_header();
        self.scroll = ScrollDepth::default();
        let page_height = capture::page::page_height();
        self.record(Kind::PageView {
            url: &url,
            referrer: &referrer,
            navigation,
            page_height,
        });
        self.page_url = url;
        if self.cfg.ads && self.capturing() {
            ads::start_page_view();
        }
    }

    /// Final events of a page view: scroll summary, pending hover, ad impression totals.
    fn end_page_view(&mut self) {
        capture::hover::end(self);
        capture::scroll::summary(self);
        if self.cfg.ads {
            ads::end_page_view(self);
        }
    }

    /// Seals the open batch and sends everything waiting (`flush()`, the flush interval).
    pub fn flush(&mut self) {
        let (delivery, io) = delivery!(self);
        delivery.flush(io);
    }

    /// The flush interval: only when events wait.
    fn on_flush_interval(&mut self) {
        if self.delivery.batches.pending_events() > 0 {
            self.flush();
        }
    }

    fn on_send_timer(&mut self) {
        let (delivery, io) = delivery!(self);
        delivery.on_send_timer(io);
    }

    pub fn on_answer(&mut self, answer: transport::Answer) {
        let (delivery, io) = delivery!(self);
        delivery.on_answer(io, answer.request_id, answer.status, answer.retry_after_ms);
    }

    /// The backoff ended, or the network came back (`online`).
    fn on_retry_timer(&mut self) {
        let (delivery, io) = delivery!(self);
        delivery.on_retry_timer(io);
    }

    /// The durable queue handed out its oldest batch, or nothing.
    fn on_queued_batch(&mut self) {
        let (delivery, io) = delivery!(self);
        delivery.on_queued_batch(io, storage::queue::taken());
    }

    /// Page hidden (`final_hide` = pagehide: the page view ends too); see `Delivery::on_hide`.
    fn on_hide(&mut self, final_hide: bool) {
        if final_hide {
            self.end_page_view();
        } else if self.cfg.ads {
            ads::set_page_active(self, false);
        }
        storage::set(KEY_SESSION, &self.session.serialize(), false);
        let (delivery, io) = delivery!(self);
        delivery.on_hide(io, final_hide);
    }

    /// A privacy change (`consent()`, `identify(…, { minor })`, the TCF module), effective
    /// from the next event: the storage gate, the stored ids and durable queue (adopted when
    /// storage became allowed, deleted when it was refused or the visitor is a minor), the
    /// batch header and delivery's consent (measurement).
    pub fn set_privacy(&mut self, given: u32, source: u32) {
        let state = privacy::apply(self.privacy, given, source);
        let was_persistent = privacy::mode(self.privacy) == privacy_mode::PERSISTENT;
        let persistent = storage::persist(state);
        self.privacy = state;
        self.delivery.durable = persistent;
        if persistent && !was_persistent {
            // A fresh id unless one is stored: the page's in-memory id of a cookieless or
            // restricted period (or one whose storage was refused, i.e. erased) never returns.
            self.anonymous_id = stored_anonymous_id(self.io.random.hex_id());
            storage::queue::open(self.cfg.retry_bytes, self.cfg.debug);
        }
        forget_stored_ids(state);
        self.refresh_header();
        let consent = privacy::delivery_consent(state);
        if consent == config::Consent::Denied {
            self.forget_page();
        }
        let (delivery, io) = delivery!(self);
        delivery.set_consent(io, consent);
    }

    /// What the page keeps besides delivery's batches: the hover and ad impressions under way.
    fn forget_page(&mut self) {
        self.hovering = None;
        self.ads.clear();
    }

    pub fn set_opt_out(&mut self, opted_out: bool) {
        self.opted_out = opted_out;
        if opted_out {
            storage::set_opted_out(true);
            self.delivery.blocked = true;
            self.forget_page();
            let (delivery, io) = delivery!(self);
            delivery.forget(io);
        } else {
            storage::set_opted_out(false);
            let blocked_by_browser = self.cfg.respect_do_not_track && env::do_not_track();
            self.delivery.blocked =
                blocked_by_browser || !config::sampled_in(&self.anonymous_id, self.cfg.sample_rate);
        }
    }

    pub fn identify(&mut self, user_id: String, traits: Pairs) {
        self.user_id = user_id;
        for (name, value) in traits {
            set_pair(&mut self.traits, name, value);
        }
        self.refresh_header();
    }

    pub fn set_traits(&mut self, traits: Pairs) {
        for (name, value) in traits {
            set_pair(&mut self.traits, name, value);
        }
        self.refresh_header();
    }

    pub fn set_experiment(&mut self, name: String, variant: String) {
        set_pair(&mut self.experiments, name, variant);
        self.refresh_header();
    }

    /// A given word from the TCF module (`js/modules/tcf.js` maps the CMP's purposes) or
    /// from the page's `consent()` (parsed by `js/dom.js`; nothing valid in it is reported).
    fn on_privacy(&mut self, numbers: js::Args<tcf::Layout>, source: u32) {
        let given = numbers.get(tcf::PURPOSES) as u32;
        if given == 0 || given & privacy::INVALID != 0 {
            return env::report(self.cfg.debug, report::CONSENT_STATES);
        }
        self.set_privacy(given, source);
    }

    /// Every event and timer then reaches `dispatch::dispatch`, which `js/dom.js` calls
    /// directly (no closure object: see there).
    fn attach(&mut self) {
        js::start(self.cfg.flush_interval_ms, self.cfg.ads);
    }
}

/// The stored anonymous id, or `fresh`, stored (the storage gate makes both a no-op unless
/// the mode is persistent: `fresh` is then a per-page id that is never sent).
fn stored_anonymous_id(fresh: String) -> String {
    storage::get(KEY_ANONYMOUS_ID)
        .filter(|id| id.len() == 32)
        .unwrap_or_else(|| {
            storage::set(KEY_ANONYMOUS_ID, &fresh, true);
            fresh
        })
}

/// Deletes the stored ids and the durable queue when storage was refused or the visitor is a
/// minor.
fn forget_stored_ids(state: u32) {
    if privacy::purpose(state, STORAGE) == 2 || state & MINOR != 0 {
        storage::remove(KEY_ANONYMOUS_ID);
        storage::remove(KEY_SESSION);
        storage::queue::clear();
    }
}

/// Starts the SDK (first `init` wins; later calls are reported and ignored).
pub fn start(cfg: Config) {
    let debug = cfg.debug;
    let started = match SDK.0.try_borrow_mut() {
        Ok(mut slot) if slot.is_none() => {
            // `forget` of the old value (None): no drop glue of `Sdk` is linked (see `stop`).
            core::mem::forget(slot.replace(Sdk::new(cfg)));
            true
        }
        _ => false,
    };
    if !started {
        env::report(debug, report::INIT_TWICE);
        return;
    }
    with_sdk(|sdk| {
        sdk.attach();
        sdk.start_page_view(Navigation::Load);
        // Batches earlier page loads (or other tabs) could not deliver, as soon as
        // IndexedDB is open (or failed to: then localStorage).
        if sdk.delivery.durable {
            storage::queue::open(sdk.cfg.retry_bytes, sdk.cfg.debug);
        }
        let (delivery, io) = delivery!(sdk);
        delivery.drain(io);
    });
}

/// Final flush (keepalive, so it survives an unload that follows), then removes every
/// listener, observer and timer.
pub fn stop() {
    with_sdk(|sdk| {
        sdk.end_page_view();
        js::stop();
        let (delivery, io) = delivery!(sdk);
        delivery.stop(io);
        ads::disconnect(sdk);
    });
    if let Ok(mut slot) = SDK.0.try_borrow_mut() {
        // Leaked, not dropped: dropping every string, list and buffer of the SDK would link
        // their drop glue (~100 B gzip) for a call made at most once per page; the few KB it
        // holds go with the page.
        core::mem::forget(slot.take());
    }
}
