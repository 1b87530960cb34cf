//! The JavaScript API. Every export takes loosely typed values and validates them itself:
//! a wrong argument is reported with `console.error` in debug mode and ignored, never
//! thrown into the host page.

use alloc::{string::String, vec::Vec};

use crate::core::event::{Kind, Navigation, Pairs, Value, set_pair};
use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;

use super::{env, start, stop, with_sdk};
use crate::core::config::{self, Config, Consent, clamp};

fn debug() -> bool {
    with_sdk(|sdk| sdk.cfg.debug).unwrap_or(false)
}

fn bounded(text: &str, max: usize) -> String {
    config::truncate(text, max).into()
}

/// Reads `init({...})`; invalid values keep their defaults (reported in debug mode).
fn read_config(options: &JsValue) -> Option<Config> {
    let mut cfg = Config {
        debug: env::get_bool(options, "debug").unwrap_or(false),
        ..Config::default()
    };
    let (Some(endpoint), Some(site_key)) = (
        env::get_string(options, "collector"),
        env::get_string(options, "siteKey"),
    ) else {
        env::report(cfg.debug, "init needs { collector, siteKey } as strings");
        return None;
    };
    cfg.endpoint = endpoint;
    cfg.site_key = bounded(&site_key, config::MAX_NAME_BYTES);
    let auto = env::get(options, "autocapture");
    if auto.is_object() {
        cfg.clicks = env::get_bool(&auto, "clicks").unwrap_or(cfg.clicks);
        cfg.scroll = env::get_bool(&auto, "scroll").unwrap_or(cfg.scroll);
        cfg.hovers = env::get_bool(&auto, "hovers").unwrap_or(cfg.hovers);
        cfg.ads = env::get_bool(&auto, "ads").unwrap_or(cfg.ads);
        cfg.element_text = env::get_bool(&auto, "elementText").unwrap_or(false);
        if let Some(ms) = env::get_f64(&auto, "hoverMs") {
            cfg.hover_ms = clamp(ms, (50.0, 60_000.0)) as u32;
        }
    }
    let batch = env::get(options, "batch");
    if batch.is_object() {
        if let Some(n) = env::get_f64(&batch, "maxEvents") {
            cfg.max_events = clamp(n as usize, config::MAX_EVENTS_RANGE);
        }
        if let Some(n) = env::get_f64(&batch, "maxBytes") {
            cfg.max_bytes = clamp(n as usize, config::MAX_BYTES_RANGE);
        }
        if let Some(n) = env::get_f64(&batch, "flushIntervalMs") {
            cfg.flush_interval_ms = clamp(n as u32, config::FLUSH_INTERVAL_RANGE);
        }
    }
    if let Some(consent) = env::get_string(options, "consent") {
        match Consent::parse(&consent) {
            Some(consent) => cfg.consent = consent,
            None => env::report(
                cfg.debug,
                "consent must be 'granted', 'pending' or 'denied'",
            ),
        }
    }
    cfg.respect_do_not_track = env::get_bool(options, "respectDoNotTrack").unwrap_or(false);
    if let Some(rate) = env::get_f64(options, "sampleRate") {
        cfg.sample_rate = clamp(rate, (0.0, 1.0));
    }
    if let Some(selector) = env::get_string(options, "adSelector") {
        cfg.ad_selector = selector;
    }
    if let Some(list) = string_list(&env::get(options, "dataAttributes")) {
        cfg.data_attributes = list;
    }
    if let Some(list) = string_list(&env::get(options, "queryAllowlist")) {
        cfg.query_allowlist = list;
    }
    Some(cfg)
}

fn string_list(value: &JsValue) -> Option<Vec<String>> {
    if !Array::is_array(value) {
        return None;
    }
    Some(
        Array::from(value)
            .iter()
            .filter_map(|v| v.as_string())
            .take(config::MAX_PROPERTIES)
            .collect(),
    )
}

/// Plain object → string map (numbers and booleans converted), bounded.
fn string_map(value: &JsValue) -> Option<Pairs> {
    if value.is_undefined() || value.is_null() {
        return Some(Pairs::new());
    }
    if !value.is_object() {
        return None;
    }
    let mut map = Pairs::new();
    for entry in Object::entries(value.unchecked_ref())
        .iter()
        .take(config::MAX_PROPERTIES)
    {
        let pair = Array::from(&entry);
        let (Some(key), value) = (pair.get(0).as_string(), pair.get(1)) else {
            continue;
        };
        let text = if let Some(text) = value.as_string() {
            text
        } else if value.as_f64().is_some() || value.as_bool().is_some() {
            String::from(js_sys::JsString::from(value))
        } else {
            continue;
        };
        set_pair(
            &mut map,
            bounded(&key, config::MAX_NAME_BYTES),
            bounded(&text, config::MAX_VALUE_BYTES),
        );
    }
    Some(map)
}

fn properties(value: &JsValue) -> Option<Vec<(String, Value)>> {
    if value.is_undefined() || value.is_null() {
        return Some(Vec::new());
    }
    if !value.is_object() {
        return None;
    }
    let mut out = Vec::new();
    for entry in Object::entries(value.unchecked_ref())
        .iter()
        .take(config::MAX_PROPERTIES)
    {
        let pair = Array::from(&entry);
        let (Some(key), value) = (pair.get(0).as_string(), pair.get(1)) else {
            continue;
        };
        let value = if let Some(text) = value.as_string() {
            Value::Text(bounded(&text, config::MAX_VALUE_BYTES))
        } else if let Some(flag) = value.as_bool() {
            Value::Bool(flag)
        } else if let Some(number) = value.as_f64() {
            if crate::core::num::is_safe_integer(number) {
                Value::Int(number as i64)
            } else {
                Value::Number(number)
            }
        } else {
            continue;
        };
        out.push((bounded(&key, config::MAX_NAME_BYTES), value));
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
  consent?: ConsentState;
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
export type ConsentState = 'granted' | 'pending' | 'denied';
export type Traits = Record<string, string | number | boolean>;
export type Properties = Record<string, string | number | boolean>;
"#;

/// Starts the SDK: `init({ collector, siteKey, autocapture, batch, consent, ... })`.
#[wasm_bindgen]
pub fn init(#[wasm_bindgen(unchecked_param_type = "SightlineConfig")] options: JsValue) {
    if let Some(cfg) = read_config(&options) {
        start(cfg);
    }
}

/// Attaches a user id (and optional traits) to everything that follows.
#[wasm_bindgen]
pub fn identify(
    #[wasm_bindgen(unchecked_param_type = "string")] user_id: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Traits | undefined")] traits: JsValue,
) {
    let Some(user_id) = user_id.as_string().filter(|id| !id.is_empty()) else {
        return env::report(
            debug(),
            "identify(userId, traits?): userId must be a non-empty string",
        );
    };
    let Some(traits) = string_map(&traits) else {
        return env::report(debug(), "identify: traits must be an object");
    };
    with_sdk(|sdk| sdk.identify(bounded(&user_id, config::MAX_NAME_BYTES), traits));
}

#[wasm_bindgen(js_name = setTraits)]
pub fn set_traits(#[wasm_bindgen(unchecked_param_type = "Traits")] traits: JsValue) {
    match string_map(&traits) {
        Some(traits) => {
            with_sdk(|sdk| sdk.set_traits(traits));
        }
        None => env::report(debug(), "setTraits(traits): traits must be an object"),
    }
}

#[wasm_bindgen(js_name = setExperiment)]
pub fn set_experiment(
    #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] variant: JsValue,
) {
    let (Some(name), Some(variant)) = (name.as_string(), variant.as_string()) else {
        return env::report(
            debug(),
            "setExperiment(name, variant): both must be strings",
        );
    };
    with_sdk(|sdk| {
        sdk.set_experiment(
            bounded(&name, config::MAX_NAME_BYTES),
            bounded(&variant, config::MAX_NAME_BYTES),
        )
    });
}

/// A custom event with typed properties.
#[wasm_bindgen]
pub fn track(
    #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Properties | undefined")] props: JsValue,
) {
    let Some(name) = name.as_string().filter(|n| !n.is_empty()) else {
        return env::report(
            debug(),
            "track(name, props?): name must be a non-empty string",
        );
    };
    let Some(properties) = properties(&props) else {
        return env::report(debug(), "track: props must be an object");
    };
    with_sdk(|sdk| {
        sdk.record(Kind::Custom {
            name: bounded(&name, config::MAX_NAME_BYTES),
            properties,
        })
    });
}

#[wasm_bindgen]
pub fn search(
    #[wasm_bindgen(unchecked_param_type = "string")] query: JsValue,
    #[wasm_bindgen(js_name = resultsCount, unchecked_param_type = "number")] results_count: JsValue,
) {
    let Some(query) = query.as_string() else {
        return env::report(
            debug(),
            "search(query, resultsCount): query must be a string",
        );
    };
    let results_count = results_count
        .as_f64()
        .unwrap_or(0.0)
        .clamp(0.0, u32::MAX as f64) as u32;
    with_sdk(|sdk| {
        sdk.record(Kind::Search {
            query: bounded(&query, config::MAX_VALUE_BYTES),
            results_count,
        })
    });
}

/// A manual page view (for routers the history hooks do not see).
#[wasm_bindgen]
pub fn page() {
    with_sdk(|sdk| sdk.start_page_view(Navigation::Manual));
}

#[wasm_bindgen]
pub fn consent(#[wasm_bindgen(unchecked_param_type = "ConsentState")] state: JsValue) {
    match state.as_string().as_deref().and_then(Consent::parse) {
        Some(state) => {
            with_sdk(|sdk| sdk.set_consent(state));
        }
        None => env::report(debug(), "consent(state): 'granted', 'pending' or 'denied'"),
    }
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
