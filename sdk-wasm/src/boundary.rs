//! The JS↔Rust boundary of the SDK, defined once: every number the wasm and `js/dom.js` (and
//! the optional modules in `js/modules/`) must agree on.
//!
//! - **codes**: what a number *means* — dispatch kinds (`fire(DISPATCH_CLICK, …)` in JS, the
//!   `match` in `web::dispatch`) and the opcodes of `nums`, `text`, `el`, `store`, `queue`;
//! - **positions**: where a value sits in an array of numbers handed over in one call (the
//!   event's numbers read by `web::js::Args`, the page metrics, `config`'s strings and
//!   numbers, `rect`). Rust reads them through typed indices ([`At`]), so the click layout
//!   cannot be used for an IntersectionObserver entry, and no index is a bare literal;
//! - **separators** of the flattened strings (`config`, `pairs`, `path`).
//!
//! The JS side: each JS file carries a generated block of these constants between the
//! markers `// @boundary <groups>` and `// @end boundary` (terser inlines them, so names cost
//! nothing in the package). `tests/boundary.rs` renders the blocks from this table and fails
//! when a file's block differs (`SIGHTLINE_BLESS=1 cargo test -p sightline-sdk --test boundary`
//! rewrites them), and checks that every `js::` import is defined in `js/dom.js` with the same
//! parameters. Values in argument arrays are written positionally in JS (an indexed build
//! costs bytes); `tests/browser/boundary.test.mjs` drives the real `js/dom.js` in Chromium
//! with distinct values and checks every position against this table.

use core::marker::PhantomData;

/// A position in the numbers one JS call hands over, for one layout `L` (a `Layout` type
/// declared by a `positions` group below).
pub struct At<L>(usize, PhantomData<fn() -> L>);

impl<L> Clone for At<L> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<L> Copy for At<L> {}

impl<L> At<L> {
    /// Only the table below creates positions.
    pub(crate) const fn new(index: usize) -> At<L> {
        At(index, PhantomData)
    }

    pub const fn index(self) -> usize {
        self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    /// Numbers with a meaning: JS constants `<js>_<NAME> = value`.
    Codes,
    /// Slots of an array: a layout comment in JS, `<js> = [NAME, …]` in slot order.
    Positions,
    /// Char codes: JS string constants `<js>_<NAME> = '\uXXXX'`.
    Separators,
}

/// One group of the table as JS sees it.
pub struct Group {
    pub module: &'static str,
    pub js: &'static str,
    pub kind: GroupKind,
    pub items: &'static [(&'static str, u32)],
}

macro_rules! items {
    (codes; $( $(#[$m:meta])* $item:ident = $value:literal ),*) => {
        pub(super) const KIND: super::GroupKind = super::GroupKind::Codes;
        $( $(#[$m])* pub const $item: u32 = $value; )*
    };
    (positions; $( $(#[$m:meta])* $item:ident = $value:literal ),*) => {
        pub(super) const KIND: super::GroupKind = super::GroupKind::Positions;
        /// The layout these positions belong to (`At<Layout>`).
        pub enum Layout {}
        $( $(#[$m])* pub const $item: super::At<Layout> = super::At::new($value); )*
    };
    (separators; $( $(#[$m:meta])* $item:ident = $value:literal ),*) => {
        pub(super) const KIND: super::GroupKind = super::GroupKind::Separators;
        $( $(#[$m])* pub const $item: u8 = $value; )*
    };
}

macro_rules! table {
    ($(
        $(#[$doc:meta])*
        $kind:ident $module:ident = $js:literal {
            $( $(#[$m:meta])* $item:ident = $value:literal, )*
        }
    )*) => {
        $(
            $(#[$doc])*
            pub mod $module {
                items!($kind; $( $(#[$m])* $item = $value ),*);
            }
        )*
        /// Every group, in table order (what the JS blocks are rendered from).
        pub const GROUPS: &[Group] = &[$(
            Group {
                module: stringify!($module),
                js: $js,
                kind: $module::KIND,
                items: &[$( (stringify!($item), $value as u32) ),*],
            }
        ),*];
    };
}

table! {
    /// The first argument of `fire(kind, target, numbers)` in JS, of `web::dispatch::dispatch`
    /// in Rust: what happened.
    codes dispatch = "DISPATCH" {
        /// target: the clicked element; numbers: `click`.
        CLICK = 0,
        SCROLL = 1,
        /// target: the element entered.
        MOUSE_OVER = 2,
        /// target: the element the pointer went to (`relatedTarget`).
        MOUSE_OUT = 3,
        POP_STATE = 4,
        /// `history.pushState`/`replaceState` (wrapped).
        PUSH_STATE = 5,
        /// numbers: `visibility`.
        VISIBILITY = 6,
        PAGE_HIDE = 7,
        FOCUS = 8,
        BLUR = 9,
        /// The `flushIntervalMs` interval.
        FLUSH_INTERVAL = 10,
        /// `timer(-1, …)`: the animation frame a scroll asked for.
        ANIMATION_FRAME = 11,
        /// numbers: `timer`.
        TIMER = 12,
        /// A fetch ended. target: the Retry-After header; numbers: `delivery`.
        DELIVERY = 13,
        /// target: the ad slot; numbers: `intersection`.
        INTERSECTION = 14,
        /// Nodes were added or removed (ad slots).
        MUTATION = 15,
        /// The network came back (`online`): drain the durable queue now.
        QUEUE_READY = 16,
        /// The durable queue handed out its oldest batch (read it with `queue(BODY)`) or nothing.
        QUEUE_BATCH = 17,
        /// The optional TCF module (`js/modules/tcf.js`): the CMP's TC data. target: the TC
        /// string; numbers: `tcf`.
        TCF = 18,
        /// The optional video module (`js/modules/video.js`): one `AdVideo` message it
        /// encoded, which the core records as `Event.ad_video` with its own event id, time,
        /// sequence number and page view. numbers: the message's bytes, one per number.
        AD_VIDEO = 19,
        /// The page called `consent(…)` (a package export of `js/dom.js`, which parses it).
        /// numbers: `tcf` (a `core::privacy` given word).
        CONSENT = 20,
    }

    /// `nums(which)`: which numbers to read.
    codes nums = "NUMS" {
        /// The numbers of the event being dispatched (or left by `config`/`pairs`).
        EVENT = 0,
        /// Page metrics (one layout read): `metrics`.
        METRICS = 1,
        /// `page_state`.
        PAGE_STATE = 2,
        /// The durable queue's evictions since the last call, read and reset: `evicted`.
        EVICTED = 3,
    }

    /// `text(which)`: a string of the page.
    codes text = "TEXT" {
        LOCATION = 0,
        REFERRER = 1,
        LANGUAGE = 2,
    }

    /// `el(element, which, name)`: a string about an element.
    codes el = "EL" {
        /// The attribute `name`.
        ATTRIBUTE = 0,
        /// `textContent`.
        TEXT = 1,
        /// The href of the enclosing link.
        LINK_HREF = 2,
        /// Some('') when `Element.checkVisibility` says CSS hides the (connected) element:
        /// `display: none`, `visibility: hidden`, or an opacity of 0 on it or an ancestor.
        HIDDEN = 3,
    }

    /// `store(op, key, value)`: localStorage, with a cookie fallback. The two set operations
    /// lie between GET and REMOVE (`js/dom.js` tests `op < STORE_REMOVE`).
    codes store = "STORE" {
        GET = 0,
        /// Set; a cookie when localStorage is unavailable.
        SET_WITH_COOKIE = 1,
        /// Set in localStorage only.
        SET_LOCAL = 2,
        /// Remove from both.
        REMOVE = 3,
    }

    /// `queue(op, body, a, b)`: the durable queue of undelivered batches.
    codes queue = "QUEUE" {
        /// Open IndexedDB; `a` byte cap, `b` debug.
        OPEN = 0,
        /// Store `body`; `a` 1: the page is going away (write synchronously).
        PUT = 1,
        /// Take the drain lock and hand out the oldest record (`QUEUE_BATCH` follows); `a` 1:
        /// first delete the record handed out before (delivered).
        NEXT = 2,
        /// Release the drain lock (the record stays).
        RELEASE = 3,
        /// Delete every record.
        CLEAR = 4,
        /// The bytes handed out (null: empty, or another tab drains).
        BODY = 5,
    }

    /// `log(code)`: a report for the site's developer in debug mode. The texts are in the
    /// optional module `js/modules/debug.js`, downloaded only by pages with `debug: true`.
    codes report = "REPORT" {
        DO_NOT_TRACK = 0,
        TCF_RECEIVED = 1,
        INIT_TWICE = 2,
        INIT_OPTIONS = 3,
        CONSENT_STATES = 4,
        USER_ID = 5,
        IDENTIFY_TRAITS = 6,
        SET_TRAITS = 7,
        EXPERIMENT = 8,
        TRACK_NAME = 9,
        TRACK_PROPS = 10,
        SEARCH_QUERY = 11,
        REJECTED = 12,
        /// `js/dom.js`: the durable queue was full; the count of batches evicted follows.
        QUEUE_EVICTED = 13,
    }

    /// `CLICK`'s numbers.
    positions click = "CLICK" {
        PAGE_X = 0,
        PAGE_Y = 1,
        CLIENT_X = 2,
        CLIENT_Y = 3,
        BUTTON = 4,
        /// `MouseEvent.isTrusted` (true/false become 1/0 in the numbers array): 0 for a
        /// click dispatched by script (`AdClick.synthetic`, an invalid-traffic signal).
        TRUSTED = 5,
    }

    /// `VISIBILITY`'s numbers.
    positions visibility = "VISIBILITY" {
        /// `document.hidden` as 1/0.
        HIDDEN = 0,
    }

    /// `TIMER`'s numbers: what `timer(delay, purpose, key)` was started with.
    positions timer = "TIMER" {
        PURPOSE = 0,
        KEY = 1,
    }

    /// `DELIVERY`'s numbers.
    positions delivery = "DELIVERY" {
        REQUEST_ID = 0,
        /// HTTP status, 0 for a network error.
        STATUS = 1,
        /// ms until an HTTP-date `Retry-After` (NaN when absent or not a date).
        RETRY_DATE_MS = 2,
    }

    /// `INTERSECTION`'s numbers: one IntersectionObserver entry.
    positions intersection = "IO" {
        TIME = 0,
        RATIO = 1,
        /// IO v2 `isVisible` as 1/0; -1 without IO v2.
        IS_VISIBLE = 2,
        /// `boundingClientRect`, viewport coordinates.
        X = 3,
        Y = 4,
        WIDTH = 5,
        HEIGHT = 6,
        /// `rootBounds` (0 when null).
        ROOT_WIDTH = 7,
        ROOT_HEIGHT = 8,
        SCROLL_X = 9,
        SCROLL_Y = 10,
        /// `documentElement.scrollHeight`.
        PAGE_HEIGHT = 11,
    }

    /// `TCF`'s numbers (js/modules/tcf.js: what the CMP's TC data says, mapped there) and
    /// `CONSENT`'s (`consent()` in js/dom.js).
    positions tcf = "TCF" {
        /// A given word of `core::privacy` (2 bits per purpose; see `privacy` below).
        PURPOSES = 0,
    }

    /// Bits of a `core::privacy` word above its purposes (bits 0–5: measurement,
    /// personalization, storage, 2 bits each: 0 unchanged, 1 granted, 2 denied, 3 pending),
    /// as `js/dom.js`'s `privacy` and `config` and `js/modules/tcf.js` build it.
    codes privacy = "PRIVACY" {
        /// `navigator.globalPrivacyControl` is on (and `respectGlobalPrivacyControl` not false).
        GPC = 512,
        /// `identify(..., { minor: true })` or `init({ audience: 'minor' })`.
        MINOR = 1024,
        /// A consent value that is neither a state nor an object of states.
        INVALID = 2048,
    }

    /// `nums(METRICS)`.
    positions metrics = "METRICS" {
        VIEWPORT_WIDTH = 0,
        VIEWPORT_HEIGHT = 1,
        SCREEN_WIDTH = 2,
        SCREEN_HEIGHT = 3,
        PIXEL_RATIO = 4,
        /// Minutes east of UTC.
        TIMEZONE_OFFSET = 5,
        PAGE_HEIGHT = 6,
        SCROLL_X = 7,
        SCROLL_Y = 8,
    }

    /// `nums(PAGE_STATE)`, as 1/0.
    positions page_state = "STATE" {
        /// Visible and focused (when ad time may accrue).
        ACTIVE = 0,
        /// `navigator.doNotTrack` or Global Privacy Control.
        DO_NOT_TRACK = 1,
        /// Invalid-traffic signals: 1 `navigator.webdriver`, + 2 `document.prerendering`.
        SIGNALS = 2,
    }

    /// `nums(EVICTED)`.
    positions evicted = "EVICTED" {
        COUNT = 0,
    }

    /// `rect(element)`: its viewport rectangle and the scroll offset.
    positions rect = "RECT" {
        X = 0,
        Y = 1,
        WIDTH = 2,
        HEIGHT = 3,
        SCROLL_X = 4,
        SCROLL_Y = 5,
    }

    /// `config(options)`'s strings (joined by `FIELD`; `MISSING` when absent or not a string;
    /// lists joined by `RECORD`).
    positions config_text = "CONFIG" {
        COLLECTOR = 0,
        SITE_KEY = 1,
        AD_SELECTOR = 2,
        DATA_ATTRIBUTES = 3,
        QUERY_ALLOWLIST = 4,
    }

    /// `config(options)`'s numbers, left for `nums(EVENT)` (NaN = not given; flags 1/0).
    positions config_numbers = "OPTION" {
        DEBUG = 0,
        CLICKS = 1,
        SCROLL = 2,
        HOVERS = 3,
        ADS = 4,
        ELEMENT_TEXT = 5,
        HOVER_MS = 6,
        MAX_EVENTS = 7,
        MAX_BYTES = 8,
        FLUSH_INTERVAL_MS = 9,
        RESPECT_DO_NOT_TRACK = 10,
        SAMPLE_RATE = 11,
        QUEUE_MAX_BYTES = 12,
        /// `consent`, `audience` and GPC as a `core::privacy` given word (always a number).
        PRIVACY = 13,
    }

    /// Separators of the strings `config`, `pairs` and `path` flatten (char codes).
    separators sep = "SEP" {
        /// Between the fields of a record (`config`'s strings, a `pairs` entry's name and value,
        /// an element's tag/id/class).
        FIELD = 0,
        /// Between records (list items, `pairs` entries, ancestors).
        RECORD = 1,
        /// In place of an option that is missing or not a string.
        MISSING = 2,
    }
}

/// Entries of `pairs(object, max)`: the numbers of entry `i` (number-typed values) sit at
/// slot `i` of `nums(EVENT)`.
pub mod pairs {
    /// Slots are entry indices, not fixed names.
    pub enum Layout {}

    pub const fn entry(index: usize) -> super::At<Layout> {
        super::At::new(index)
    }
}

/// A layout read with `nums(WHICH)`: ties each layout to the call that fills it.
pub trait FromNums {
    const WHICH: u32;
}

macro_rules! from_nums {
    ($($layout:ident => $which:ident),* $(,)?) => {
        $(impl FromNums for $layout::Layout {
            const WHICH: u32 = nums::$which;
        })*
    };
}

from_nums! {
    click => EVENT,
    visibility => EVENT,
    timer => EVENT,
    delivery => EVENT,
    intersection => EVENT,
    tcf => EVENT,
    config_numbers => EVENT,
    pairs => EVENT,
    metrics => METRICS,
    page_state => PAGE_STATE,
    evicted => EVICTED,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_positions_dense_per_group() {
        let mut modules = alloc::vec::Vec::new();
        for group in GROUPS {
            assert!(!modules.contains(&group.module), "{}", group.module);
            modules.push(group.module);
            let mut values: alloc::vec::Vec<u32> = group.items.iter().map(|i| i.1).collect();
            values.sort_unstable();
            values.dedup();
            assert_eq!(
                values.len(),
                group.items.len(),
                "{}: a value twice",
                group.module
            );
            // `privacy` holds bits of one word (OR-ed together in JS), not codes: distinct
            // powers of two instead.
            if group.module == "privacy" {
                assert!(
                    values.iter().all(|v| v.is_power_of_two()),
                    "privacy: not bits"
                );
                continue;
            }
            // Positions and codes alike run 0..n, so a forgotten or skipped slot shows.
            let dense: alloc::vec::Vec<u32> = (0..values.len() as u32).collect();
            assert_eq!(values, dense, "{}: not 0..n", group.module);
        }
    }
}
