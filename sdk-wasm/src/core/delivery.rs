//! Delivery: batching, sending, retry/backoff and the durable queue's state machine, with
//! every effect behind [`Io`] — so it runs, and is property-tested, without a browser
//! (`tests/delivery.rs`); `web::WebIo` is the browser's implementation (fetch/sendBeacon,
//! IndexedDB/localStorage through `js/dom.js`, timers, clocks).
//!
//! The rules (see docs/sdk-design.md and sdk-wasm/README.md, "Delivery guarantees"):
//! - events are appended to the open batch (`BatchQueue`); closed batches are sent one
//!   request at a time, oldest first, in a task of their own (`Timer::Send`);
//! - a failed request (network error, 408, 429, 5xx) puts a fresh batch into the durable
//!   queue and starts one backoff for the page (`Retry-After` honoured); while it runs, fresh
//!   batches go to the queue instead of the network;
//! - the queue is drained — one stored batch at a time, oldest first, by the one tab holding
//!   its lock — at start, when the backoff ends, when the network comes back, and after any
//!   fresh batch is accepted; a stored batch is deleted only after a 2xx (or a permanent 4xx);
//! - at page hide closed batches go by beacon (to the queue while failing), and at pagehide
//!   what exists only in memory (a fresh request in flight included) is written to the queue
//!   synchronously: the one documented case where a batch may be delivered twice. The drain
//!   lock is given back at pagehide.

use alloc::vec::Vec;

use super::{
    batch::{self, BatchQueue, Header},
    config::Consent,
    retry::{Backoff, Next, Pending},
};

/// What a timer started through [`Io::set_timer`] is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// Send closed batches, in a task of their own.
    Send,
    /// The backoff ended: drain the durable queue.
    Retry,
}

/// Everything delivery does to the world. One implementation per environment: the browser
/// (`web::WebIo`) and the simulated world of the property tests.
pub trait Io {
    /// Starts a request with `body` (stamped); its outcome comes back through
    /// [`Delivery::on_answer`] with `request_id`. False when it could not even start.
    fn send(&mut self, body: &[u8], request_id: u32) -> bool;
    /// Hands `body` (stamped) to the browser to deliver even if the page goes away; true
    /// when accepted. Its outcome is never known.
    fn beacon(&mut self, body: &[u8]) -> bool;
    /// Stores `body` (unstamped) in the durable queue. `at_exit`: the page is going away, so
    /// the write must be synchronous.
    fn put(&mut self, body: &[u8], at_exit: bool);
    /// Takes the queue's drain lock (unless another tab holds it) and hands out the oldest
    /// stored batch, later, through [`Delivery::on_queued_batch`] (`None`: empty, or another
    /// tab drains). `delivered`: first delete the batch handed out before.
    fn take_next(&mut self, delivered: bool);
    /// Gives the drain lock back; the batch handed out stays stored.
    fn release(&mut self);
    /// Deletes every stored batch.
    fn clear(&mut self);
    /// Batches the queue evicted (over its byte cap) since the last call.
    fn take_evicted(&mut self) -> u32;
    /// The page's invalid-traffic signals for `Batch.signals` (see `batch::report_evicted`).
    fn signals(&mut self) -> u32 {
        0
    }
    /// Runs `timer` once after `delay_ms`: [`Delivery::on_send_timer`] or
    /// [`Delivery::on_retry_timer`]. Returns a handle for [`Io::clear_timer`].
    fn set_timer(&mut self, delay_ms: u64, timer: Timer) -> Option<i32>;
    fn clear_timer(&mut self, handle: i32);
    /// Wall clock, ms since the Unix epoch (`sent_at_ms`).
    fn now_ms(&mut self) -> i64;
    /// A number in 0..1 for the backoff's jitter.
    fn jitter(&mut self) -> f64;
    /// A message for the site's developer (debug mode).
    fn report(&mut self, code: u32);
}

#[derive(Debug)]
pub struct Delivery {
    /// The open batch and the closed ones not handed to [`Delivery`]'s sending yet.
    pub batches: BatchQueue,
    pub consent: Consent,
    /// Opt-out, Do-Not-Track/GPC or sampling: nothing is captured or drained.
    pub blocked: bool,
    /// The durable queue may be read (the privacy mode is persistent; `web::storage` gates
    /// the writes): a cookieless or restricted page neither drains nor fills it.
    pub durable: bool,
    /// Batches to send, oldest first, and the one request in flight.
    ready: Vec<Pending>,
    inflight: Option<(u32, Pending)>,
    backoff: Backoff,
    /// This tab holds the durable queue's drain lock.
    draining: bool,
    next_request_id: u32,
    retry_timer: Option<i32>,
    send_scheduled: bool,
    /// Batches refused for good (4xx other than 408/429).
    pub rejected: u32,
}

impl Delivery {
    pub fn new(batches: BatchQueue, consent: Consent, blocked: bool, durable: bool) -> Delivery {
        Delivery {
            batches,
            consent,
            blocked,
            durable,
            ready: Vec::new(),
            inflight: None,
            backoff: Backoff::default(),
            draining: false,
            next_request_id: 1,
            retry_timer: None,
            send_scheduled: false,
            rejected: 0,
        }
    }

    /// Whether events are captured at all.
    pub fn capturing(&self) -> bool {
        !self.blocked && self.consent != Consent::Denied
    }

    fn granted(&self) -> bool {
        self.consent == Consent::Granted
    }

    /// Appends one encoded `Event` to the open batch.
    pub fn record(&mut self, io: &mut impl Io, event: &[u8]) {
        if self.batches.push(event) {
            self.schedule_send(io);
        }
    }

    /// Replaces the shared context/identity (the open batch is closed when it changed).
    pub fn set_header(&mut self, io: &mut impl Io, header: &Header) {
        if self.batches.set_header(header) {
            self.schedule_send(io);
        }
    }

    /// Sends closed batches in a task of their own, after the current event is handled.
    fn schedule_send(&mut self, io: &mut impl Io) {
        if self.send_scheduled || !self.granted() {
            return;
        }
        self.send_scheduled = true;
        io.set_timer(0, Timer::Send);
    }

    /// Seals the open batch and sends everything waiting (`flush()`, the flush interval).
    pub fn flush(&mut self, io: &mut impl Io) {
        self.batches.seal();
        self.send_outbox(io);
    }

    pub fn on_send_timer(&mut self, io: &mut impl Io) {
        self.send_scheduled = false;
        self.send_outbox(io);
    }

    fn send_outbox(&mut self, io: &mut impl Io) {
        if !self.granted() {
            return;
        }
        self.take_sealed(io);
        self.pump(io);
    }

    /// Moves the closed batches to the ready list (fresh: not in the durable queue). Each
    /// reports the durable queue's evictions since the previous one (`evicted_batches`).
    fn take_sealed(&mut self, io: &mut impl Io) {
        for mut sealed in self.batches.take_outbox() {
            let signals = io.signals();
            batch::report_evicted(&mut sealed.body, io.take_evicted(), signals, sealed.privacy);
            self.ready.push(Pending {
                body: sealed.body,
                stored: false,
            });
        }
    }

    fn stamped(&self, io: &mut impl Io, body: &[u8]) -> Vec<u8> {
        batch::stamp(self.batches.source(), body, io.now_ms())
    }

    /// Sends the oldest ready batch when nothing is in flight. One request at a time keeps
    /// batches in order, uses one connection, and fits the browser's 64 KB keepalive budget,
    /// so the request survives a navigation that follows right after it. While a backoff
    /// runs (the collector failed), fresh batches go to the durable queue instead: the
    /// drain sends them, oldest first, when the backoff ends.
    fn pump(&mut self, io: &mut impl Io) {
        while self.inflight.is_none() && !self.ready.is_empty() {
            let pending = self.ready.remove(0);
            if self.retry_timer.is_some() && !pending.stored {
                io.put(&pending.body, false);
                continue;
            }
            let request_id = self.next_request_id;
            self.next_request_id = self.next_request_id.wrapping_add(1);
            let body = self.stamped(io, &pending.body);
            if io.send(&body, request_id) {
                self.inflight = Some((request_id, pending));
            } else {
                let jitter = io.jitter();
                let delay_ms = self.backoff.failed(jitter, None);
                self.failed(io, pending, delay_ms);
            }
        }
    }

    /// A request ended: `status` `None` for a network error; `retry_after_ms` from the
    /// collector's `Retry-After`. Answers to requests this instance no longer waits for are
    /// ignored.
    pub fn on_answer(
        &mut self,
        io: &mut impl Io,
        request_id: u32,
        status: Option<u16>,
        retry_after_ms: Option<u64>,
    ) {
        let Some((inflight_id, pending)) = self.inflight.take() else {
            return;
        };
        if inflight_id != request_id {
            self.inflight = Some((inflight_id, pending));
            return;
        }
        let jitter = io.jitter();
        let next = self.backoff.next(status, jitter, retry_after_ms);
        match next {
            Next::RetryIn(delay_ms) => self.failed(io, pending, delay_ms),
            Next::Done | Next::Rejected => {
                if let Some(timer) = self.retry_timer.take() {
                    io.clear_timer(timer);
                }
                if next == Next::Rejected {
                    self.rejected = self.rejected.saturating_add(1);
                    io.report(crate::boundary::report::REJECTED);
                }
                if pending.stored {
                    // Deletes it (the record handed out last: no other is handed out while a
                    // stored batch is in flight, see `drain`) and goes on with the next one,
                    // taking the lock again if pagehide gave it back meanwhile.
                    self.draining = true;
                    io.take_next(true);
                } else {
                    // The collector takes batches: deliver what waits in the queue now.
                    self.drain(io);
                }
            }
        }
        self.pump(io);
    }

    /// A request failed (network, 408, 429, 5xx) or could not start: a fresh batch goes to
    /// the durable queue, a stored one stays there (its drain lock is given back for
    /// another tab or a later attempt), and the drain resumes after `delay_ms`.
    fn failed(&mut self, io: &mut impl Io, pending: Pending, delay_ms: u64) {
        if pending.stored {
            self.draining = false;
            io.release();
        } else {
            io.put(&pending.body, false);
        }
        if let Some(timer) = self.retry_timer.take() {
            io.clear_timer(timer);
        }
        self.retry_timer = io.set_timer(delay_ms, Timer::Retry);
    }

    /// The backoff ended, or the network came back (`online`): drain, then send what is ready.
    pub fn on_retry_timer(&mut self, io: &mut impl Io) {
        if let Some(timer) = self.retry_timer.take() {
            io.clear_timer(timer);
        }
        self.drain(io);
        self.pump(io);
    }

    /// Starts handing out the durable queue's batches (oldest first) unless this tab is
    /// already at it; another tab holding the drain lock makes it a no-op. Not while a stored
    /// batch is in flight (after pagehide gave the lock back): the queue deletes "the record
    /// handed out last" when one is delivered, so only one may be out at a time; its answer
    /// goes on draining.
    pub fn drain(&mut self, io: &mut impl Io) {
        let stored_in_flight = matches!(self.inflight, Some((_, Pending { stored: true, .. })));
        if self.draining || stored_in_flight || !self.granted() || self.blocked || !self.durable {
            return;
        }
        self.draining = true;
        io.take_next(false);
    }

    /// The queue handed out its oldest batch (sent before anything fresh), or nothing.
    pub fn on_queued_batch(&mut self, io: &mut impl Io, body: Option<Vec<u8>>) {
        match body {
            Some(body) if self.draining => {
                self.ready.insert(0, Pending { body, stored: true });
                self.pump(io);
            }
            Some(_) => io.release(),
            None => self.draining = false,
        }
    }

    /// Page hidden (`final_hide`: pagehide). Closed batches go out by beacon, or to the
    /// durable queue while the collector is failing (a beacon cannot report a failure); at
    /// pagehide that write is synchronous, and so is the copy of a fresh request still in
    /// flight (sent again later if its answer is lost: at-least-once, consumers
    /// deduplicate by event id).
    pub fn on_hide(&mut self, io: &mut impl Io, final_hide: bool) {
        if final_hide {
            // The drain lock goes at pagehide (a localStorage lease would outlive the page).
            // Stored batches handed out but not sent yet stay in the queue for whichever tab
            // drains next: sending them after a return from the back/forward cache would
            // repeat what that tab sends.
            self.ready.retain(|pending| !pending.stored);
            self.draining = false;
            io.release();
        }
        if !self.granted() {
            return;
        }
        self.batches.seal();
        self.take_sealed(io);
        let failing = self.retry_timer.is_some();
        for pending in core::mem::take(&mut self.ready) {
            if pending.stored {
                // Still in the queue; nothing to save.
                self.ready.push(pending);
                continue;
            }
            let sent = !failing && {
                let body = self.stamped(io, &pending.body);
                io.beacon(&body)
            };
            if !sent {
                io.put(&pending.body, final_hide);
            }
        }
        if final_hide {
            self.save_unsent(io);
        }
        // Only stored batches can be left: a hidden tab keeps draining.
        self.pump(io);
    }

    /// Before the page or the SDK goes away: what exists only in memory (fresh ready
    /// batches, a fresh request in flight) is written to the queue synchronously.
    fn save_unsent(&mut self, io: &mut impl Io) {
        let inflight = self.inflight.as_ref().map(|(_, p)| p);
        for pending in self.ready.iter().chain(inflight) {
            if !pending.stored {
                io.put(&pending.body, true);
            }
        }
    }

    pub fn set_consent(&mut self, io: &mut impl Io, consent: Consent) {
        self.consent = consent;
        match consent {
            Consent::Granted => {
                self.flush(io);
                self.drain(io);
            }
            Consent::Pending => {}
            Consent::Denied => self.forget(io),
        }
    }

    /// Drops everything captured and not yet delivered, the durable queue included.
    pub fn forget(&mut self, io: &mut impl Io) {
        self.batches.clear();
        self.ready.clear();
        self.inflight = None;
        self.draining = false;
        io.clear();
    }

    /// `shutdown()`: a final send of what is closed (keepalive), what is only in memory
    /// saved to the queue, the drain lock and the backoff timer given back.
    pub fn stop(&mut self, io: &mut impl Io) {
        self.batches.seal();
        if self.granted() {
            self.take_sealed(io);
            self.pump(io);
            self.save_unsent(io);
        }
        io.release();
        if let Some(timer) = self.retry_timer.take() {
            io.clear_timer(timer);
        }
    }
}
