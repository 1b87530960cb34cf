//! The JavaScript API. Every export takes loosely typed values and validates them itself:
//! a wrong argument is reported with `console.error` in debug mode and ignored, never
//! thrown into the host page.

use alloc::{string::String, vec::Vec};

use crate::core::event::{Kind, Navigation, Pairs, Value, set_pair};
use wasm_bindgen::prelude::*;

use super::{env, js, start, stop, with_sdk};
use crate::boundary::{
    config_numbers::{self as option, *},
    config_text::{self, *},
    pairs, report, sep,
};
use crate::core::config::{self, Config, clamp};
use crate::core::privacy;

fn debug() -> bool {
    with_sdk(|sdk| sdk.cfg.debug).unwrap_or(false)
}

fn bounded(text: &str, max: usize) -> String {
    config::truncate(text, max).into()
}

use js::MISSING;

/// A string option, if it was given as a string.
fn given(text: &str) -> Option<&str> {
    (text != MISSING).then_some(text)
}

fn string_list(text: &str) -> Option<Vec<String>> {
    Some(config::list(given(text)?))
}

/// Reads `init({...})`, flattened by `js/dom.js` into strings and numbers (NaN = not
/// given); invalid values keep their defaults (reported in debug mode).
#[inline(never)]
fn read_config(options: &JsValue) -> Option<Config> {
    let joined = js::config(options);
    let strings = js::Strings::<config_text::Layout>::new(&joined);
    let numbers = js::Numbers::<option::Layout>::read();
    let flag = |at, default: bool| {
        let value = numbers.raw(at);
        if value.is_nan() {
            default
        } else {
            value == 1.0
        }
    };
    let number = |at| Some(numbers.raw(at)).filter(|v| !v.is_nan());
    let mut cfg = Config {
        debug: flag(DEBUG, false),
        ..Config::default()
    };
    let (Some(endpoint), Some(site_key)) =
        (given(strings.get(COLLECTOR)), given(strings.get(SITE_KEY)))
    else {
        env::report(cfg.debug, report::INIT_OPTIONS);
        return None;
    };
    cfg.endpoint = endpoint.into();
    cfg.site_key = bounded(site_key, config::MAX_NAME_BYTES);
    cfg.clicks = flag(CLICKS, cfg.clicks);
    cfg.scroll = flag(SCROLL, cfg.scroll);
    cfg.hovers = flag(HOVERS, cfg.hovers);
    cfg.ads = flag(ADS, cfg.ads);
    cfg.element_text = flag(ELEMENT_TEXT, false);
    if let Some(ms) = number(HOVER_MS) {
        cfg.hover_ms = clamp(ms, (50.0, 60_000.0)) as u32;
    }
    if let Some(n) = number(MAX_EVENTS) {
        cfg.max_events = clamp(n as usize, config::MAX_EVENTS_RANGE);
    }
    if let Some(n) = number(MAX_BYTES) {
        cfg.max_bytes = clamp(n as usize, config::MAX_BYTES_RANGE);
    }
    if let Some(n) = number(FLUSH_INTERVAL_MS) {
        cfg.flush_interval_ms = clamp(n as u32, config::FLUSH_INTERVAL_RANGE);
    }
    cfg.privacy = numbers.raw(PRIVACY) as u32;
    if cfg.privacy & privacy::INVALID != 0 {
        env::report(cfg.debug, report::CONSENT_STATES);
    }
    cfg.respect_do_not_track = flag(RESPECT_DO_NOT_TRACK, false);
    if let Some(rate) = number(SAMPLE_RATE) {
        cfg.sample_rate = clamp(rate, (0.0, 1.0));
    }
    if let Some(n) = number(QUEUE_MAX_BYTES) {
        cfg.retry_bytes = clamp(n as usize, config::RETRY_BYTES_RANGE);
    }
    if let Some(selector) = given(strings.get(AD_SELECTOR)) {
        cfg.ad_selector = selector.into();
    }
    if let Some(list) = string_list(strings.get(DATA_ATTRIBUTES)) {
        cfg.data_attributes = list;
    }
    if let Some(list) = string_list(strings.get(QUERY_ALLOWLIST)) {
        cfg.query_allowlist = list;
    }
    Some(cfg)
}

/// A plain object's string, number and boolean entries, bounded, as (name, type, text,
/// number); `None` when `value` is not an object (undefined/null give no entries).
fn entries(value: &JsValue) -> Option<Vec<(String, u8, String, f64)>> {
    let joined = js::pairs(value, config::MAX_PROPERTIES as u32)?;
    let numbers = js::Numbers::<pairs::Layout>::read();
    let mut out = Vec::new();
    for (index, record) in crate::core::text::parts(&joined, sep::RECORD).enumerate() {
        let Some((head, text)) = crate::core::text::cut(record, sep::FIELD) else {
            continue;
        };
        // The type letter is ASCII (`js/dom.js`): byte 1 is a char boundary.
        let (Some(&kind), Some(name)) = (head.as_bytes().first(), head.get(1..)) else {
            continue;
        };
        out.push((
            bounded(name, config::MAX_NAME_BYTES),
            kind,
            bounded(text, config::MAX_VALUE_BYTES),
            numbers.get(pairs::entry(index)),
        ));
    }
    Some(out)
}

/// Plain object → string map (numbers and booleans as text), bounded.
fn string_map(value: &JsValue) -> Option<Pairs> {
    let mut map = Pairs::new();
    for (name, _, text, _) in entries(value)? {
        set_pair(&mut map, name, text);
    }
    Some(map)
}

fn properties(value: &JsValue) -> Option<Vec<(String, Value)>> {
    let mut out = Vec::new();
    for (name, kind, text, number) in entries(value)? {
        let value = match kind {
            b'b' => Value::Bool(text == "true"),
            b'n' if crate::core::num::is_safe_integer(number) => Value::Int(number as i64),
            b'n' => Value::Number(number),
            _ => Value::Text(text),
        };
        out.push((name, value));
    }
    Some(out)
}

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** Options of `init`. Invalid values keep their defaults (reported when `debug` is set). */
export interface SightlineConfig {
  /** Collector origin or full endpoint; batches go to `{collector}/v1/batch`. */
  collector: string;
  siteKey: string;
  autocapture?: { clicks?: boolean; scroll?: boolean; hovers?: boolean; ads?: boolean; hoverMs?: number; elementText?: boolean };
  batch?: { maxEvents?: number; maxBytes?: number; flushIntervalMs?: number };
  /** Durable queue of undelivered batches (IndexedDB, else localStorage): byte cap,
   *  default 1 MiB (65536..67108864); the oldest batches are evicted first, and counted. */
  queue?: { maxBytes?: number };
  /** One state for every purpose, or per purpose (default: all granted). */
  consent?: ConsentState | ConsentPurposes;
  /** `'minor'`: restricted mode (no ids, traits, experiments or behavioural capture). */
  audience?: 'minor';
  /** Honour `navigator.globalPrivacyControl` (default true: personalization and storage
   *  denied, so cookieless, unless the page calls `consent()`). */
  respectGlobalPrivacyControl?: boolean;
  respectDoNotTrack?: boolean;
  /** Share of visitors tracked (0..1), stable per visitor. */
  sampleRate?: number;
  debug?: boolean;
  /** CSS selector of ad slots (default `[data-ad-slot]`). */
  adSelector?: string;
  /** data-* attributes (without the prefix) copied into clicks and hovers. */
  dataAttributes?: string[];
  /** Query parameters kept in URLs; a trailing `*` is a prefix match (default `utm_*`). */
  queryAllowlist?: string[];
}
/** Attaches a user id (and optional traits) to everything that follows; `{ minor: true }`:
 *  a known minor (restricted mode for the rest of the page: the id and traits are not sent). */
export function identify(userId: string, traits?: Traits, options?: IdentifyOptions): void;
export type ConsentState = 'granted' | 'pending' | 'denied';
/** Consent for every purpose, or per purpose (purposes not given keep their state); from
 *  the next event on. Never throws (an invalid value is reported in debug mode). */
export function consent(state: ConsentState | ConsentPurposes): void;
/** Consent per purpose; purposes not given keep their state. */
export interface ConsentPurposes {
  measurement?: ConsentState;
  personalization?: ConsentState;
  storage?: ConsentState;
}
/** `minor: true`: the visitor is a known minor (restricted mode for the rest of the page). */
export interface IdentifyOptions {
  minor?: boolean;
}
export type Traits = Record<string, string | number | boolean>;
export type Properties = Record<string, string | number | boolean>;
/** What a video player that is not a `<video>` element reports to `adVideo`. */
export interface AdVideoState {
  state: 'playing' | 'paused' | 'ended' | 'waiting';
  /** Media position and duration, in seconds. */
  currentTime: number;
  duration: number;
  muted?: boolean;
  /** 0..1 */
  volume?: number;
  fullscreen?: boolean;
}
/** A video ad player's state (call it on every change and at least every 250 ms while it
 *  plays); `slot` is the ad slot element or its `data-ad-slot` id. Loads the video module. */
export function adVideo(slot: Element | string, state: AdVideoState): void;
"#;

/// The API calls. Every export below is a one-line shim into `command`, so the argument
/// checks and the SDK calls exist once in the wasm instead of once per export.
#[derive(Clone, Copy)]
enum Command {
    Identify,
    SetTraits,
    SetExperiment,
    Track,
    Search,
}

/// A string argument, or `None` (reported as `message` in debug mode).
fn text_argument(value: &JsValue, non_empty: bool, message: u32) -> Option<String> {
    let text = value.as_string().filter(|t| !non_empty || !t.is_empty());
    if text.is_none() {
        env::report(debug(), message);
    }
    text
}

#[inline(never)]
fn command(command: Command, first: &JsValue, second: &JsValue) {
    match command {
        Command::Identify => {
            let Some(user_id) = text_argument(first, true, report::USER_ID) else {
                return;
            };
            let Some(traits) = string_map(second) else {
                return env::report(debug(), report::IDENTIFY_TRAITS);
            };
            with_sdk(|sdk| sdk.identify(bounded(&user_id, config::MAX_NAME_BYTES), traits));
        }
        Command::SetTraits => match string_map(first) {
            Some(traits) => {
                with_sdk(|sdk| sdk.set_traits(traits));
            }
            None => env::report(debug(), report::SET_TRAITS),
        },
        Command::SetExperiment => {
            let message = report::EXPERIMENT;
            let (Some(name), Some(variant)) = (
                text_argument(first, false, message),
                text_argument(second, false, message),
            ) else {
                return;
            };
            with_sdk(|sdk| {
                sdk.set_experiment(
                    bounded(&name, config::MAX_NAME_BYTES),
                    bounded(&variant, config::MAX_NAME_BYTES),
                )
            });
        }
        Command::Track => {
            let Some(name) = text_argument(first, true, report::TRACK_NAME) else {
                return;
            };
            let Some(properties) = properties(second) else {
                return env::report(debug(), report::TRACK_PROPS);
            };
            with_sdk(|sdk| {
                sdk.record(Kind::Custom {
                    name: config::truncate(&name, config::MAX_NAME_BYTES),
                    properties: &properties,
                })
            });
        }
        Command::Search => {
            let Some(query) = text_argument(first, false, report::SEARCH_QUERY) else {
                return;
            };
            let results_count = second.as_f64().unwrap_or(0.0).clamp(0.0, u32::MAX as f64) as u32;
            with_sdk(|sdk| {
                sdk.record(Kind::Search {
                    query: config::truncate(&query, config::MAX_VALUE_BYTES),
                    results_count,
                })
            });
        }
    }
}

/// Starts the SDK: `init({ collector, siteKey, autocapture, batch, consent, ... })`.
#[wasm_bindgen]
pub fn init(#[wasm_bindgen(unchecked_param_type = "SightlineConfig")] options: JsValue) {
    if let Some(cfg) = read_config(&options) {
        start(cfg);
    }
}

/// Attaches a user id (and optional traits) to everything that follows. The package's
/// `identify(userId, traits, options)` is `js/dom.js`'s, which applies `options.minor` first
/// (DISPATCH_CONSENT) and then calls this export (module-private: `tools/inline-dom.mjs`).
#[wasm_bindgen(js_name = __identify, skip_typescript)]
pub fn identify(user_id: JsValue, traits: JsValue) {
    command(Command::Identify, &user_id, &traits);
}

#[wasm_bindgen(js_name = setTraits)]
pub fn set_traits(#[wasm_bindgen(unchecked_param_type = "Traits")] traits: JsValue) {
    command(Command::SetTraits, &traits, &JsValue::UNDEFINED);
}

#[wasm_bindgen(js_name = setExperiment)]
pub fn set_experiment(
    #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] variant: JsValue,
) {
    command(Command::SetExperiment, &name, &variant);
}

/// A custom event with typed properties.
#[wasm_bindgen]
pub fn track(
    #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Properties | undefined")] props: JsValue,
) {
    command(Command::Track, &name, &props);
}

#[wasm_bindgen]
pub fn search(
    #[wasm_bindgen(unchecked_param_type = "string")] query: JsValue,
    #[wasm_bindgen(js_name = resultsCount, unchecked_param_type = "number")] results_count: JsValue,
) {
    command(Command::Search, &query, &results_count);
}

/// A manual page view (for routers the history hooks do not see).
#[wasm_bindgen]
pub fn page() {
    with_sdk(|sdk| sdk.start_page_view(Navigation::Manual));
}

/// Stops all tracking for this browser, persistently, and forgets unsent data.
#[wasm_bindgen(js_name = optOut)]
pub fn opt_out() {
    with_sdk(|sdk| sdk.set_opt_out(true));
}

#[wasm_bindgen(js_name = optIn)]
pub fn opt_in() {
    with_sdk(|sdk| sdk.set_opt_out(false));
}

/// Sends everything captured so far now.
#[wasm_bindgen]
pub fn flush() {
    with_sdk(|sdk| sdk.flush());
}

/// Ends the page view, flushes, and removes every listener, observer and timer.
#[wasm_bindgen]
pub fn shutdown() {
    stop();
}
