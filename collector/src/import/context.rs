//! A Segment message's `context` objects that have a place in `sightline.v1` without new
//! fields: `campaign` (as the browser keeps it: `utm_*` parameters in the page URL's
//! query), `device.type` and `os` (the edge's `DeviceInfo`), `screen.density` and a
//! fixed-offset `timezone` (the page context), `app` (`CollectedEvent.app`).
//! `device.manufacturer`/`model` and a named `timezone` have no field and are not kept
//! (collector/README.md, "Mapping").
//!
//! Everything here is lenient: a value of the wrong type is ignored, never a rejection —
//! these objects are filled by libraries from the platform, not typed by the sender.

use serde_json::{Map, Value};
use sightline_proto::v1::{AppInfo, DeviceClass, DeviceInfo};

/// Segment `context.campaign` keys → the UTM parameters the browser SDK keeps in URLs.
const CAMPAIGN_PARAMETERS: &[(&str, &str)] = &[
    ("source", "utm_source"),
    ("medium", "utm_medium"),
    ("name", "utm_campaign"),
    ("term", "utm_term"),
    ("content", "utm_content"),
];

fn text<'a>(object: Option<&'a Map<String, Value>>, name: &str) -> Option<&'a str> {
    object
        .and_then(|o| o.get(name))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn child<'a>(
    context: Option<&'a Map<String, Value>>,
    name: &str,
) -> Option<&'a Map<String, Value>> {
    context.and_then(|c| c.get(name)).and_then(Value::as_object)
}

/// Percent-encodes a query value: RFC 3986 unreserved characters stay as they are.
fn encode(value: &str, out: &mut String) {
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
}

/// `url` with the campaign's UTM parameters added to its query, each only when the URL
/// does not carry that parameter already (the URL is what the visitor really opened).
/// Without a URL (a server or app event) the result is the query alone (`?utm_source=…`),
/// a relative reference that URL parsers and ClickHouse's `extractURLParameter` read.
/// The result is cut to `max_len` at a parameter boundary.
pub fn with_campaign(url: &str, context: Option<&Map<String, Value>>, max_len: usize) -> String {
    let campaign = child(context, "campaign");
    let (base, fragment) = url
        .split_once('#')
        .map_or((url, None), |(b, f)| (b, Some(f)));
    let present = |name: &str| {
        base.split_once('?').is_some_and(|(_, query)| {
            query
                .split('&')
                .any(|pair| pair.split('=').next() == Some(name))
        })
    };
    let mut out = base.to_owned();
    for (key, parameter) in CAMPAIGN_PARAMETERS {
        let Some(value) = text(campaign, key) else {
            continue;
        };
        if present(parameter) {
            continue;
        }
        let mut pair = String::new();
        pair.push(if out.contains('?') { '&' } else { '?' });
        pair.push_str(parameter);
        pair.push('=');
        encode(value, &mut pair);
        if out.len() + pair.len() > max_len {
            break;
        }
        out.push_str(&pair);
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// `context.screen.density` (device pixels per CSS pixel), when a positive number.
pub fn pixel_ratio(context: Option<&Map<String, Value>>) -> f32 {
    child(context, "screen")
        .and_then(|s| s.get("density"))
        .and_then(Value::as_f64)
        .filter(|d| d.is_finite() && *d > 0.0 && *d <= 16.0)
        .map_or(0.0, |d| d as f32)
}

/// Minutes east of UTC from `context.timezone` when the value itself says it: `UTC`/`GMT`,
/// `Etc/GMT±N` (POSIX sign: `Etc/GMT-5` is UTC+5) or an ISO 8601 offset `±HH:MM`. An IANA
/// zone name (`Asia/Kolkata`) needs a time-zone database and the event date: not derived.
pub fn timezone_offset_min(context: Option<&Map<String, Value>>) -> Option<i32> {
    let zone = text(context, "timezone")?;
    if matches!(zone, "UTC" | "GMT" | "Etc/UTC" | "Etc/GMT" | "Z") {
        return Some(0);
    }
    if let Some(hours) = zone.strip_prefix("Etc/GMT") {
        let hours: i32 = hours.parse().ok()?;
        return (-14..=12).contains(&hours).then_some(-hours * 60);
    }
    let (sign, rest) = match zone.as_bytes().first()? {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "0"));
    let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    ((0..=14).contains(&hours) && (0..60).contains(&minutes))
        .then_some(sign * (hours * 60 + minutes))
}

/// What the message declares about its device (`context.device.type`, `context.os`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeclaredDevice {
    pub class: Option<DeviceClass>,
    /// (`os.name`, major of `os.version`).
    pub os: Option<(String, u32)>,
}

/// `context.app` (`name`, `version`, `build`, `namespace`), each cut to `max_len` characters;
/// a `build` or `version` sent as a number (Segment's iOS library sends strings, some
/// Android builds send the version code as a number) is kept as its decimal text. `None`
/// when the message names no app.
pub fn app(context: Option<&Map<String, Value>>, max_len: usize) -> Option<AppInfo> {
    let app = child(context, "app")?;
    let field = |name: &str| -> String {
        match app.get(name) {
            Some(Value::String(s)) => s.trim().chars().take(max_len).collect(),
            Some(Value::Number(n)) => n.to_string().chars().take(max_len).collect(),
            _ => String::new(),
        }
    };
    let info = AppInfo {
        name: field("name"),
        version: field("version"),
        build: field("build"),
        namespace: field("namespace"),
    };
    (info != AppInfo::default()).then_some(info)
}

/// Reads `context.device.type` and `context.os`. Segment's mobile libraries send the
/// platform as the type (`ios`, `android`); a model naming an iPad or tablet makes it a
/// tablet.
pub fn declared_device(context: Option<&Map<String, Value>>) -> DeclaredDevice {
    let device = child(context, "device");
    let model = text(device, "model").unwrap_or("").to_ascii_lowercase();
    let class = text(device, "type").and_then(|kind| {
        Some(match kind.to_ascii_lowercase().as_str() {
            _ if model.contains("ipad") || model.contains("tablet") => DeviceClass::Tablet,
            "ios" | "android" | "mobile" | "phone" | "smartphone" => DeviceClass::Mobile,
            "tablet" | "ipados" => DeviceClass::Tablet,
            "desktop" | "computer" | "macos" | "mac" | "windows" | "linux" => DeviceClass::Desktop,
            "tv" | "watch" | "console" | "car" | "wearable" => DeviceClass::Other,
            _ => return None,
        })
    });
    let os_object = child(context, "os");
    let os = text(os_object, "name").map(|name| {
        let major = text(os_object, "version")
            .and_then(|v| v.split('.').next())
            .and_then(|m| m.parse().ok())
            .unwrap_or(0);
        (name.chars().take(64).collect(), major)
    });
    DeclaredDevice { class, os }
}

impl DeclaredDevice {
    /// The edge's `DeviceInfo` (parsed from the user agent) with the declared facts over
    /// it, field by field: an app's own report of its platform beats the agent of its HTTP
    /// client, and a backend forwarding a browser's agent rarely declares either. A parse
    /// that says BOT keeps BOT: a declaration cannot hide a crawler.
    pub fn apply(&self, device: &mut DeviceInfo) {
        if let Some(class) = self.class
            && device.device_class != DeviceClass::Bot as i32
        {
            device.device_class = class as i32;
        }
        if let Some((name, major)) = &self.os {
            device.os.clone_from(name);
            device.os_major = *major;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.class.is_none() && self.os.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(text: &str) -> Map<String, Value> {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn campaign_becomes_utm_parameters_the_url_does_not_have() {
        let c = context(
            r#"{"campaign":{"name":"Fall Sale","source":"newsletter","medium":"email","term":"calc & more","content":"b","extra":"x"}}"#,
        );
        assert_eq!(
            with_campaign("https://x.example/c?utm_source=ads&q=1#top", Some(&c), 2048),
            "https://x.example/c?utm_source=ads&q=1&utm_medium=email&utm_campaign=Fall%20Sale&utm_term=calc%20%26%20more&utm_content=b#top"
        );
        assert_eq!(
            with_campaign("", Some(&c), 2048),
            "?utm_source=newsletter&utm_medium=email&utm_campaign=Fall%20Sale&utm_term=calc%20%26%20more&utm_content=b"
        );
        assert_eq!(with_campaign("https://x/", None, 2048), "https://x/");
        let odd = context(r#"{"campaign":{"name":7,"source":" ","medium":"cpc"}}"#);
        assert_eq!(
            with_campaign("https://x/", Some(&odd), 2048),
            "https://x/?utm_medium=cpc"
        );
        // Bounded: parameters that do not fit are left out whole.
        assert_eq!(
            with_campaign("https://x/", Some(&c), 40),
            "https://x/?utm_source=newsletter"
        );
    }

    #[test]
    fn screen_density_and_fixed_offsets() {
        assert_eq!(
            pixel_ratio(Some(&context(r#"{"screen":{"density":2.75}}"#))),
            2.75
        );
        assert_eq!(
            pixel_ratio(Some(&context(r#"{"screen":{"density":-1}}"#))),
            0.0
        );
        assert_eq!(
            pixel_ratio(Some(&context(r#"{"screen":{"density":"2"}}"#))),
            0.0
        );
        let tz = |zone: &str| {
            timezone_offset_min(Some(&context(&format!(r#"{{"timezone":"{zone}"}}"#))))
        };
        assert_eq!(tz("UTC"), Some(0));
        assert_eq!(tz("Etc/GMT-5"), Some(300));
        assert_eq!(tz("Etc/GMT+8"), Some(-480));
        assert_eq!(tz("+05:30"), Some(330));
        assert_eq!(tz("-03:00"), Some(-180));
        assert_eq!(tz("Asia/Kolkata"), None, "IANA names need a tz database");
        assert_eq!(tz("+25:00"), None);
        assert_eq!(timezone_offset_min(None), None);
    }

    #[test]
    fn declared_device_and_os_win_over_the_agent_except_bot() {
        let declared = declared_device(Some(&context(
            r#"{"device":{"type":"ios","manufacturer":"Apple","model":"iPhone15,2"},"os":{"name":"iOS","version":"17.4.1"}}"#,
        )));
        assert_eq!(
            declared,
            DeclaredDevice {
                class: Some(DeviceClass::Mobile),
                os: Some(("iOS".into(), 17))
            }
        );
        let mut parsed = DeviceInfo {
            device_class: DeviceClass::Other as i32,
            browser: "okhttp".into(),
            browser_major: 4,
            os: String::new(),
            os_major: 0,
        };
        declared.apply(&mut parsed);
        assert_eq!(parsed.device_class, DeviceClass::Mobile as i32);
        assert_eq!((parsed.os.as_str(), parsed.os_major), ("iOS", 17));
        assert_eq!(parsed.browser, "okhttp", "the browser stays the agent's");
        let mut bot = DeviceInfo {
            device_class: DeviceClass::Bot as i32,
            ..Default::default()
        };
        declared.apply(&mut bot);
        assert_eq!(bot.device_class, DeviceClass::Bot as i32);

        let tablet = declared_device(Some(&context(
            r#"{"device":{"type":"ios","model":"iPad13,4"}}"#,
        )));
        assert_eq!(tablet.class, Some(DeviceClass::Tablet));
        assert_eq!(
            declared_device(Some(&context(
                r#"{"device":{"type":"android"},"os":{"name":"Android"}}"#
            ))),
            DeclaredDevice {
                class: Some(DeviceClass::Mobile),
                os: Some(("Android".into(), 0))
            }
        );
        assert!(
            declared_device(Some(&context(
                r#"{"device":{"type":"toaster"},"os":{"version":"3"}}"#
            )))
            .is_empty()
        );
        assert!(declared_device(None).is_empty());
    }

    #[test]
    fn app_keeps_its_four_fields_numbers_as_text_and_cut() {
        let app = super::app(
            Some(&context(
                r#"{"app":{"name":" CampusLearn ","version":"4.2.0","build":421,"namespace":"in.campuslearn.app","extra":true}}"#,
            )),
            8,
        );
        assert_eq!(
            app,
            Some(AppInfo {
                name: "CampusLe".into(),
                version: "4.2.0".into(),
                build: "421".into(),
                namespace: "in.campu".into(),
            })
        );
        assert_eq!(
            super::app(Some(&context(r#"{"app":{"name":[1]}}"#)), 8),
            None
        );
        assert_eq!(
            super::app(Some(&context(r#"{"app":"CampusLearn"}"#)), 8),
            None
        );
        assert_eq!(super::app(None, 8), None);
    }
}
