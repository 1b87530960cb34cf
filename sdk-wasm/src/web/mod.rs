//! The browser layer: one `Sdk` per page, reached by handlers and API calls through
//! [`with_sdk`]. Handlers record; `schedule_send` moves encoding and sending to a task of
//! its own, off the interaction path. The DOM plumbing is `js/dom.js` (see `js`); every
//! event and timer arrives through `dispatch`.

mod ads;
mod api;
mod capture;
mod dispatch;
mod element;
mod env;
mod js;
mod storage;
mod transport;

use alloc::{string::String, vec::Vec};
use core::cell::RefCell;

use wasm_bindgen::{JsValue, closure::Closure};

use crate::core::{
    backoff,
    batch::{BatchQueue, Header, Limits},
    config::{self, Config, Consent},
    event::{Context, Identity, Kind, Navigation, Pairs, encode_event, set_pair},
    retry::{Pending, RetryQueue},
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
/// Prefix of the per-tab retry queue keys ("sl_q." + page session id).
const KEY_RETRY_PREFIX: &str = "sl_q.";

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
    retry: RetryQueue,
    /// Batches to send, oldest first, and the one request in flight.
    ready: Vec<Pending>,
    inflight: Option<(u32, Pending)>,
    /// Whether storage currently holds unconfirmed batches of this page.
    stored: bool,
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
    /// The one function `js/dom.js` calls for every event and timer (kept alive here).
    dispatcher: Option<Closure<dyn Fn(u32, JsValue)>>,
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
            queue: BatchQueue::new(cfg.site_key.clone(), limits),
            retry: RetryQueue::new(cfg.retry_bytes),
            ready: Vec::new(),
            inflight: None,
            stored: false,
            next_request_id: 1,
            retry_timer: None,
            send_scheduled: false,
            rejected: 0,
            random,
            scroll: ScrollDepth::default(),
            scroll_frame_pending: false,
            hovering: None,
            ads: ads::Ads::default(),
            dispatcher: None,
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
        for sealed in self.queue.take_outbox() {
            self.ready.push(Pending {
                body: sealed.body,
                attempts: 0,
                due_ms: 0.0,
            });
        }
        self.pump();
    }

    /// Sends the oldest ready batch when nothing is in flight. One request at a time keeps
    /// batches in order, uses one connection, and fits the browser's 64 KB keepalive budget,
    /// so the request survives a navigation that follows right after it.
    fn pump(&mut self) {
        while self.inflight.is_none() && !self.ready.is_empty() {
            let pending = self.ready.remove(0);
            let request_id = self.next_request_id;
            self.next_request_id = self.next_request_id.wrapping_add(1);
            if transport::fetch(&self.endpoint, &pending.body, request_id) {
                self.inflight = Some((request_id, pending));
            } else {
                self.retry_later(pending, None);
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
        match backoff::classify(delivery.status) {
            backoff::Outcome::Delivered => {
                if self.stored {
                    self.persist_retry();
                }
            }
            backoff::Outcome::Rejected => {
                self.rejected = self.rejected.saturating_add(1);
                env::report(
                    self.cfg.debug,
                    "collector rejected a batch (4xx); not retried",
                );
            }
            backoff::Outcome::Retry => self.retry_later(pending, delivery.retry_after_ms),
        }
        self.pump();
    }

    fn retry_later(&mut self, mut pending: Pending, retry_after_ms: Option<u64>) {
        pending.attempts = pending.attempts.saturating_add(1);
        let delay = backoff::delay_ms(pending.attempts, self.random.unit(), retry_after_ms);
        pending.due_ms = env::now_ms() + delay as f64;
        self.retry.push(pending);
        self.persist_retry();
        self.arm_retry_timer();
    }

    fn arm_retry_timer(&mut self) {
        if let Some(timer) = self.retry_timer.take() {
            env::clear_timeout(timer);
        }
        let Some(due) = self.retry.next_due() else {
            return;
        };
        self.retry_timer = env::set_timeout(due - env::now_ms(), timers::RETRY, 0);
    }

    fn on_retry_timer(&mut self) {
        self.retry_timer = None;
        self.send_due_retries();
    }

    fn send_due_retries(&mut self) {
        if self.consent != Consent::Granted || self.blocked {
            return;
        }
        let due = self.retry.take_due(env::now_ms());
        self.ready.extend(due);
        self.pump();
        self.arm_retry_timer();
    }

    /// Mirrors everything not yet confirmed (waiting retries and requests in flight) into
    /// localStorage, so a page unload or a crash does not lose it. At-least-once: a batch
    /// whose response was lost is sent again; consumers deduplicate by event id.
    fn persist_retry(&mut self) {
        let mut key = String::from(KEY_RETRY_PREFIX);
        key.push_str(&self.page_session_id);
        let mut stored = self.retry.serialize();
        let inflight = self
            .inflight
            .as_ref()
            .map(|(_, p)| ::core::slice::from_ref(p));
        for pending in self.ready.iter().chain(inflight.unwrap_or_default()) {
            if !stored.is_empty() {
                stored.push(',');
            }
            stored.push_str(&crate::core::hex::encode(&pending.body));
        }
        if stored.is_empty() {
            storage::remove_local(&key);
        } else {
            storage::set_local(&key, &stored);
        }
        self.stored = !stored.is_empty();
    }

    /// Picks up batches earlier page loads (or closed tabs) could not deliver.
    #[inline(never)]
    fn adopt_stored_retries(&mut self) {
        let now = env::now_ms();
        // Several stored queues come back joined by ',', the separator of one queue.
        for body in RetryQueue::parse(&storage::take_prefixed(KEY_RETRY_PREFIX)) {
            self.retry.push(Pending {
                body,
                attempts: 0,
                due_ms: now,
            });
        }
        if !self.retry.is_empty() {
            self.persist_retry();
            self.arm_retry_timer();
        }
    }

    /// Page hidden (`final_hide` = pagehide: the page view ends too). Everything closed
    /// goes out by beacon; what is still unconfirmed is mirrored to storage.
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
        for sealed in self.queue.take_outbox() {
            self.ready.push(Pending {
                body: sealed.body,
                attempts: 0,
                due_ms: 0.0,
            });
        }
        // The page may be gone in a moment: hand every ready batch to the browser now.
        // What it refuses (beacon quota) stays in `ready` and is mirrored to storage.
        let ready = core::mem::take(&mut self.ready);
        for pending in ready {
            if !transport::beacon(&self.endpoint, &pending.body) {
                self.ready.push(pending);
            }
        }
        self.persist_retry();
        self.pump();
    }

    pub fn set_consent(&mut self, consent: Consent) {
        self.consent = consent;
        match consent {
            Consent::Granted => {
                self.flush();
                self.send_due_retries();
            }
            Consent::Pending => {}
            Consent::Denied => self.forget(),
        }
    }

    /// Drops everything captured and not yet delivered.
    fn forget(&mut self) {
        self.queue.clear();
        self.retry.clear();
        self.ready.clear();
        self.inflight = None;
        self.hovering = None;
        self.ads.clear();
        self.persist_retry();
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

    #[inline(never)]
    fn attach(&mut self) {
        let dispatcher = Closure::<dyn Fn(u32, JsValue)>::new(dispatch::dispatch);
        js::start(
            dispatcher.as_ref(),
            self.cfg.flush_interval_ms,
            self.cfg.ads,
        );
        self.dispatcher = Some(dispatcher);
    }

    fn detach(&mut self) {
        js::stop();
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
        sdk.adopt_stored_retries();
    });
}

/// Final flush (keepalive, so it survives an unload that follows), then removes every
/// listener, observer and timer.
pub fn stop() {
    with_sdk(|sdk| {
        sdk.end_page_view();
        sdk.queue.seal();
        if sdk.consent == Consent::Granted {
            for sealed in sdk.queue.take_outbox() {
                sdk.ready.push(Pending {
                    body: sealed.body,
                    attempts: 0,
                    due_ms: 0.0,
                });
            }
            sdk.pump();
        }
        sdk.persist_retry();
        sdk.detach();
    });
    if let Ok(mut slot) = SDK.0.try_borrow_mut() {
        *slot = None;
    }
}
