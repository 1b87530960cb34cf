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

use crate::core::{
    batch::{self, BatchQueue, Header, Limits},
    config::{self, Config, Consent},
    event::{Context, Identity, Kind, Navigation, Pairs, encode_event, set_pair},
    retry::{Backoff, Next, Pending},
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
const KEY_OPT_OUT: &str = "sl_optout";

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

pub struct Sdk {
    pub cfg: Config,
    endpoint: String,
    consent: Consent,
    /// Opt-out, Do-Not-Track/GPC or sampling: nothing is captured.
    blocked: bool,
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
    queue: BatchQueue,
    /// Batches to send, oldest first, and the one request in flight.
    ready: Vec<Pending>,
    inflight: Option<(u32, Pending)>,
    backoff: Backoff,
    /// This tab holds the durable queue's drain lock (see `storage::queue`).
    draining: bool,
    next_request_id: u32,
    retry_timer: Option<i32>,
    send_scheduled: bool,
    /// Batches refused for good (4xx other than 408/429).
    pub rejected: u32,
    pub random: env::Random,
    pub scroll: ScrollDepth,
    pub scroll_frame_pending: bool,
    pub hovering: Option<Hovering>,
    pub ads: ads::Ads,
}

impl Sdk {
    #[inline(never)]
    fn new(cfg: Config) -> Sdk {
        let mut random = env::Random::new();
        let now = env::now_ms();
        let anonymous_id = storage::get(KEY_ANONYMOUS_ID)
            .filter(|id| id.len() == 32)
            .unwrap_or_else(|| {
                let id = random.hex_id();
                storage::set(KEY_ANONYMOUS_ID, &id, true);
                id
            });
        let mut session = storage::get(KEY_SESSION)
            .and_then(|stored| Session::parse(&stored))
            .unwrap_or_else(|| Session {
                id: random.hex_id(),
                last_activity_ms: now,
            });
        session.touch(now, || random.hex_id());
        let opted_out = storage::get(KEY_OPT_OUT).is_some();
        let blocked_by_browser = cfg.respect_do_not_track && env::do_not_track();
        let sampled = config::sampled_in(&anonymous_id, cfg.sample_rate);
        if blocked_by_browser {
            env::report(
                cfg.debug,
                "Do-Not-Track or Global Privacy Control is set: not tracking",
            );
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
            endpoint,
            consent: cfg.consent,
            blocked: opted_out || blocked_by_browser || !sampled,
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
            queue: BatchQueue::new(&cfg.site_key, limits),
            ready: Vec::new(),
            inflight: None,
            backoff: Backoff::default(),
            draining: false,
            next_request_id: 1,
            retry_timer: None,
            send_scheduled: false,
            rejected: 0,
            random,
            scroll: ScrollDepth::default(),
            scroll_frame_pending: false,
            hovering: None,
            ads: ads::Ads::default(),
            cfg,
        }
    }

    fn capturing(&self) -> bool {
        !self.blocked && self.consent != Consent::Denied
    }

    /// Appends one event to the open batch. The only work done on the interaction path.
    pub fn record(&mut self, kind: Kind) {
        if !self.capturing() {
            return;
        }
        let now = env::now_ms();
        let random = &mut self.random;
        if self.session.touch(now, || random.hex_id()) {
            self.refresh_header();
        }
        self.seq += 1;
        let event_id = self.random.id();
        let event = encode_event(&event_id, now as i64, self.seq, &self.page_view_id, &kind);
        if self.queue.push(&event) {
            self.schedule_send();
        }
    }

    /// Closes the open batch when the context or identity changed.
    fn refresh_header(&mut self) {
        let header = Header {
            context: &self.context,
            identity: Identity {
                anonymous_id: &self.anonymous_id,
                user_id: &self.user_id,
                session_id: &self.session.id,
                page_session_id: &self.page_session_id,
                traits: &self.traits,
            },
            experiments: &self.experiments,
        };
        if self.queue.set_header(&header) {
            self.schedule_send();
        }
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
        self.page_view_id = self.random.id();
        self.page_url = url.clone();
        self.context = capture::page::read_context(url.clone(), referrer.clone());
        self.refresh_header();
        self.scroll = ScrollDepth::default();
        let page_height = capture::page::page_height();
        self.record(Kind::PageView {
            url,
            referrer,
            navigation,
            page_height,
        });
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

    /// Sends closed batches in a task of their own, after the current event is handled.
    pub fn schedule_send(&mut self) {
        if self.send_scheduled || self.consent != Consent::Granted {
            return;
        }
        self.send_scheduled = true;
        env::set_timeout(0.0, timers::SEND, 0);
    }

    /// Seals the open batch and sends everything waiting (normal flush).
    pub fn flush(&mut self) {
        self.queue.seal();
        self.send_outbox();
    }

    /// The timer of `schedule_send`.
    fn on_send_timer(&mut self) {
        self.send_scheduled = false;
        self.send_outbox();
    }

    fn send_outbox(&mut self) {
        if self.consent != Consent::Granted {
            return;
        }
        self.take_sealed();
        self.pump();
    }

    /// Moves the closed batches to the ready list (fresh: not in the durable queue). Each
    /// reports the durable queue's evictions since the previous one (`evicted_batches`).
    fn take_sealed(&mut self) {
        for mut sealed in self.queue.take_outbox() {
            batch::report_evicted(&mut sealed.body, storage::queue::take_evicted());
            self.ready.push(Pending {
                body: sealed.body,
                stored: false,
            });
        }
    }

    /// Sends the oldest ready batch when nothing is in flight. One request at a time keeps
    /// batches in order, uses one connection, and fits the browser's 64 KB keepalive budget,
    /// so the request survives a navigation that follows right after it. While a backoff
    /// runs (the collector failed), fresh batches go to the durable queue instead: the
    /// drain sends them, oldest first, when the backoff ends.
    fn pump(&mut self) {
        while self.inflight.is_none() && !self.ready.is_empty() {
            let pending = self.ready.remove(0);
            if self.retry_timer.is_some() && !pending.stored {
                storage::queue::put(&pending.body, false);
                continue;
            }
            let request_id = self.next_request_id;
            self.next_request_id = self.next_request_id.wrapping_add(1);
            if transport::fetch(
                &self.endpoint,
                self.queue.source(),
                &pending.body,
                request_id,
            ) {
                self.inflight = Some((request_id, pending));
            } else {
                let delay_ms = self.backoff.failed(self.random.unit(), None);
                self.failed(pending, delay_ms);
            }
        }
    }

    pub fn on_delivery(&mut self, delivery: transport::Delivery) {
        let Some((request_id, pending)) = self.inflight.take() else {
            return;
        };
        if request_id != delivery.request_id {
            self.inflight = Some((request_id, pending));
            return;
        }
        let next = self
            .backoff
            .next(delivery.status, self.random.unit(), delivery.retry_after_ms);
        match next {
            Next::RetryIn(delay_ms) => self.failed(pending, delay_ms),
            Next::Done | Next::Rejected => {
                if let Some(timer) = self.retry_timer.take() {
                    env::clear_timeout(timer);
                }
                if next == Next::Rejected {
                    self.rejected = self.rejected.saturating_add(1);
                    env::report(
                        self.cfg.debug,
                        "collector rejected a batch (4xx); not retried",
                    );
                }
                if pending.stored {
                    storage::queue::next(true);
                } else {
                    // The collector takes batches: deliver what waits in the queue now.
                    self.drain();
                }
            }
        }
        self.pump();
    }

    /// A request failed (network, 408, 429, 5xx) or could not start: a fresh batch goes to
    /// the durable queue, a stored one stays there (its drain lock is given back for
    /// another tab or a later attempt), and the drain resumes after `delay_ms`.
    fn failed(&mut self, pending: Pending, delay_ms: u64) {
        if pending.stored {
            self.draining = false;
            storage::queue::release();
        } else {
            storage::queue::put(&pending.body, false);
        }
        if let Some(timer) = self.retry_timer.take() {
            env::clear_timeout(timer);
        }
        self.retry_timer = env::set_timeout(delay_ms as f64, timers::RETRY, 0);
    }

    /// The backoff ended, or the network came back (`online`): drain, then send what is ready.
    fn on_retry_timer(&mut self) {
        if let Some(timer) = self.retry_timer.take() {
            env::clear_timeout(timer);
        }
        self.drain();
        self.pump();
    }

    /// Starts handing out the durable queue's batches (oldest first) unless this tab is
    /// already at it; another tab holding the drain lock makes it a no-op.
    fn drain(&mut self) {
        if self.draining || self.consent != Consent::Granted || self.blocked {
            return;
        }
        self.draining = true;
        storage::queue::next(false);
    }

    /// The queue handed out its oldest batch (sent before anything fresh), or nothing.
    fn on_queued_batch(&mut self) {
        match storage::queue::taken() {
            Some(body) if self.draining => {
                self.ready.insert(0, Pending { body, stored: true });
                self.pump();
            }
            Some(_) => storage::queue::release(),
            None => self.draining = false,
        }
    }

    /// Page hidden (`final_hide` = pagehide: the page view ends too). Closed batches go out
    /// by beacon, or to the durable queue while the collector is failing (a beacon cannot
    /// report a failure); at pagehide that write is synchronous (localStorage), and so is
    /// the copy of a fresh request still in flight (sent again later if its answer is lost:
    /// at-least-once, consumers deduplicate by event id).
    fn on_hide(&mut self, final_hide: bool) {
        if final_hide {
            self.end_page_view();
        } else if self.cfg.ads {
            ads::set_page_active(self, false);
        }
        storage::set(KEY_SESSION, &self.session.serialize(), false);
        if self.consent != Consent::Granted {
            return;
        }
        self.queue.seal();
        self.take_sealed();
        let failing = self.retry_timer.is_some();
        for pending in core::mem::take(&mut self.ready) {
            if pending.stored {
                // Still in the queue; nothing to save.
                self.ready.push(pending);
            } else if failing
                || !transport::beacon(&self.endpoint, self.queue.source(), &pending.body)
            {
                storage::queue::put(&pending.body, final_hide);
            }
        }
        if final_hide {
            self.save_unsent();
        }
        // Only stored batches can be left: a hidden tab keeps draining.
        self.pump();
    }

    /// Before the page or the SDK goes away: what exists only in memory (fresh ready
    /// batches, a fresh request in flight) is written to the queue synchronously.
    fn save_unsent(&mut self) {
        let inflight = self.inflight.as_ref().map(|(_, p)| p);
        for pending in self.ready.iter().chain(inflight) {
            if !pending.stored {
                storage::queue::put(&pending.body, true);
            }
        }
    }

    pub fn set_consent(&mut self, consent: Consent) {
        self.consent = consent;
        match consent {
            Consent::Granted => {
                self.flush();
                self.drain();
            }
            Consent::Pending => {}
            Consent::Denied => self.forget(),
        }
    }

    /// Drops everything captured and not yet delivered.
    fn forget(&mut self) {
        self.queue.clear();
        self.ready.clear();
        self.inflight = None;
        self.draining = false;
        self.hovering = None;
        self.ads.clear();
        storage::queue::clear();
    }

    pub fn set_opt_out(&mut self, opted_out: bool) {
        self.opted_out = opted_out;
        if opted_out {
            storage::set(KEY_OPT_OUT, "1", true);
            self.blocked = true;
            self.forget();
        } else {
            storage::remove(KEY_OPT_OUT);
            let blocked_by_browser = self.cfg.respect_do_not_track && env::do_not_track();
            self.blocked =
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

    /// Every event and timer then reaches `dispatch::dispatch`, which `js/dom.js` calls
    /// directly (no closure object: see there).
    fn attach(&mut self) {
        js::start(self.cfg.flush_interval_ms, self.cfg.ads);
    }

    fn detach(&mut self) {
        js::stop();
        storage::queue::release();
        if let Some(timer) = self.retry_timer.take() {
            env::clear_timeout(timer);
        }
        ads::disconnect(self);
    }
}

/// Starts the SDK (first `init` wins; later calls are reported and ignored).
pub fn start(cfg: Config) {
    let debug = cfg.debug;
    let started = match SDK.0.try_borrow_mut() {
        Ok(mut slot) if slot.is_none() => {
            *slot = Some(Sdk::new(cfg));
            true
        }
        _ => false,
    };
    if !started {
        env::report(debug, "init called twice; the second call is ignored");
        return;
    }
    with_sdk(|sdk| {
        sdk.attach();
        sdk.start_page_view(Navigation::Load);
        // Batches earlier page loads (or other tabs) could not deliver, as soon as
        // IndexedDB is open (or failed to: then localStorage).
        storage::queue::open(sdk.cfg.retry_bytes, sdk.cfg.debug);
        sdk.drain();
    });
}

/// Final flush (keepalive, so it survives an unload that follows), then removes every
/// listener, observer and timer.
pub fn stop() {
    with_sdk(|sdk| {
        sdk.end_page_view();
        sdk.queue.seal();
        if sdk.consent == Consent::Granted {
            sdk.take_sealed();
            sdk.pump();
            sdk.save_unsent();
        }
        sdk.detach();
    });
    if let Ok(mut slot) = SDK.0.try_borrow_mut() {
        *slot = None;
    }
}
