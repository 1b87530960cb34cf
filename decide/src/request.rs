//! `POST /v1/decide` bodies: parsed from JSON, every string bounded, every enum checked.
//! Nothing here panics on input; every refusal is a [`DecideError`].

use serde::Deserialize;

use crate::{config::LimitsConfig, error::DecideError};

/// The JSON body as sent. Unknown fields are ignored (a newer page may send more).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawRequest {
    site: String,
    slot: String,
    placement: String,
    page: RawPage,
    college: String,
    cohort: String,
    anonymous_id: String,
    user_id: String,
    privacy: Option<RawPrivacy>,
    count: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawPage {
    url: String,
    subject: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawPrivacy {
    mode: String,
    personalization: String,
    gpc: bool,
    minor: bool,
}

/// The identity mode the page runs the SDK in (docs/privacy.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Persistent,
    Cookieless,
    Restricted,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Persistent => "persistent",
            Mode::Cookieless => "cookieless",
            Mode::Restricted => "restricted",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    Granted,
    Denied,
    Pending,
}

/// What the page says about the visitor's privacy. Absent in a request: the strictest
/// reading (cookieless, personalization not granted), so a page that forgets it never
/// gets a behavioural decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Privacy {
    pub mode: Mode,
    pub personalization: Consent,
    pub gpc: bool,
    pub minor: bool,
}

impl Privacy {
    pub const UNKNOWN: Privacy = Privacy {
        mode: Mode::Cookieless,
        personalization: Consent::Pending,
        gpc: false,
        minor: false,
    };

    /// The read-side rule of docs/privacy.md: only a persistent-mode visitor who is not a
    /// minor, sent no GPC signal and did not deny personalization may be looked up,
    /// profiled or put in the experiment. Everybody else gets a contextual decision.
    pub fn allows_profiling(&self) -> bool {
        self.mode == Mode::Persistent
            && self.personalization != Consent::Denied
            && !self.gpc
            && !self.minor
    }
}

/// A validated decision request.
#[derive(Debug, Clone)]
pub struct DecideRequest {
    pub site: String,
    pub slot: String,
    pub placement: String,
    pub page_url: String,
    /// The page's subject as the page states it (may be empty: then the URL says).
    pub page_subject: String,
    pub college: String,
    pub cohort: String,
    /// `user_id` when set, else `anonymous_id`: the collector's `CollectedEvent.user_key`,
    /// so the visitor meets the profile its events built. Empty for anonymous requests.
    pub visitor_key: String,
    pub privacy: Privacy,
    pub count: u32,
}

impl DecideRequest {
    pub fn parse(body: &[u8], limits: &LimitsConfig) -> Result<Self, DecideError> {
        // serde would read a struct from an array too: only an object is a request.
        if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(DecideError::InvalidJson("not a JSON object".to_owned()));
        }
        let raw: RawRequest =
            serde_json::from_slice(body).map_err(|e| DecideError::InvalidJson(e.to_string()))?;
        let field = |name: &'static str, value: &str| -> Result<(), DecideError> {
            if value.len() > limits.max_field_len {
                return Err(DecideError::FieldTooLong {
                    field: name,
                    limit: limits.max_field_len,
                });
            }
            Ok(())
        };
        let required = |name: &'static str, value: &str| -> Result<(), DecideError> {
            if value.trim().is_empty() {
                return Err(DecideError::MissingField(name));
            }
            field(name, value)
        };
        required("site", &raw.site)?;
        required("slot", &raw.slot)?;
        required("placement", &raw.placement)?;
        field("page.subject", &raw.page.subject)?;
        field("college", &raw.college)?;
        field("cohort", &raw.cohort)?;
        field("anonymous_id", &raw.anonymous_id)?;
        field("user_id", &raw.user_id)?;
        if raw.page.url.len() > limits.max_url_len {
            return Err(DecideError::FieldTooLong {
                field: "page.url",
                limit: limits.max_url_len,
            });
        }
        let count = raw.count.unwrap_or(1);
        if count == 0 || count > limits.max_count {
            return Err(DecideError::InvalidCount {
                limit: limits.max_count,
            });
        }
        let privacy = match raw.privacy {
            None => Privacy::UNKNOWN,
            Some(p) => Privacy {
                mode: match p.mode.as_str() {
                    "persistent" => Mode::Persistent,
                    "cookieless" | "" => Mode::Cookieless,
                    "restricted" => Mode::Restricted,
                    other => {
                        return Err(invalid(
                            "privacy.mode",
                            other,
                            "persistent, cookieless or restricted",
                        ));
                    }
                },
                personalization: match p.personalization.as_str() {
                    "granted" => Consent::Granted,
                    "denied" => Consent::Denied,
                    "pending" | "" => Consent::Pending,
                    other => {
                        return Err(invalid(
                            "privacy.personalization",
                            other,
                            "granted, denied or pending",
                        ));
                    }
                },
                gpc: p.gpc,
                minor: p.minor,
            },
        };
        let visitor_key = if raw.user_id.is_empty() {
            raw.anonymous_id
        } else {
            raw.user_id
        };
        Ok(Self {
            site: raw.site,
            slot: raw.slot,
            placement: raw.placement,
            page_url: raw.page.url,
            page_subject: raw.page.subject,
            college: raw.college,
            cohort: raw.cohort,
            visitor_key,
            privacy,
            count,
        })
    }

    /// The visitor key the decision may use: none unless privacy allows profiling (the
    /// read side of the rule: a restricted or cookieless page that sends an id anyway is
    /// still treated as anonymous).
    pub fn profiled_visitor(&self) -> Option<&str> {
        (self.privacy.allows_profiling() && !self.visitor_key.is_empty())
            .then_some(self.visitor_key.as_str())
    }
}

fn invalid(field: &'static str, value: &str, expected: &str) -> DecideError {
    DecideError::InvalidValue {
        field,
        detail: format!(
            "{:?} is not one of {expected}",
            value.chars().take(32).collect::<String>()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<DecideRequest, DecideError> {
        DecideRequest::parse(json.as_bytes(), &LimitsConfig::default())
    }

    const OK: &str = r#"{"site":"demo","slot":"top","placement":"top_banner",
        "page":{"url":"https://x/courses/dsa","subject":"Computer Science"},
        "anonymous_id":"a1","user_id":"u1",
        "privacy":{"mode":"persistent","personalization":"granted"}}"#;

    #[test]
    fn a_full_request_parses_and_the_user_id_wins() {
        let r = parse(OK).unwrap();
        assert_eq!(r.visitor_key, "u1");
        assert_eq!(r.count, 1);
        assert_eq!(r.profiled_visitor(), Some("u1"));
    }

    #[test]
    fn bad_input_is_a_coded_refusal_never_a_panic() {
        let code = |json: &str| parse(json).unwrap_err().code();
        assert_eq!(code("not json"), "invalid_json");
        assert_eq!(code("[]"), "invalid_json");
        assert_eq!(code(r#"{"site":7}"#), "invalid_json");
        assert_eq!(code(r#"{"site":"demo","slot":"top"}"#), "missing_field");
        let long = "x".repeat(129);
        assert_eq!(
            code(&format!(
                r#"{{"site":"{long}","slot":"a","placement":"b"}}"#
            )),
            "field_too_long"
        );
        assert_eq!(
            code(r#"{"site":"d","slot":"a","placement":"b","count":0}"#),
            "invalid_count"
        );
        assert_eq!(
            code(r#"{"site":"d","slot":"a","placement":"b","count":99}"#),
            "invalid_count"
        );
        assert_eq!(
            code(r#"{"site":"d","slot":"a","placement":"b","privacy":{"mode":"spy"}}"#),
            "invalid_value"
        );
    }

    #[test]
    fn only_persistent_consenting_adults_without_gpc_are_profiled() {
        let with = |privacy: &str| {
            parse(&OK.replace(
                r#"{"mode":"persistent","personalization":"granted"}"#,
                privacy,
            ))
            .unwrap()
            .profiled_visitor()
            .map(str::to_owned)
        };
        assert_eq!(with(r#"{"mode":"persistent"}"#), Some("u1".to_owned()));
        assert_eq!(with(r#"{"mode":"cookieless"}"#), None);
        assert_eq!(with(r#"{"mode":"restricted"}"#), None);
        assert_eq!(with(r#"{"mode":"persistent","minor":true}"#), None);
        assert_eq!(with(r#"{"mode":"persistent","gpc":true}"#), None);
        assert_eq!(
            with(r#"{"mode":"persistent","personalization":"denied"}"#),
            None
        );
        // No privacy block at all: the strictest reading.
        let bare = parse(r#"{"site":"d","slot":"a","placement":"b","user_id":"u"}"#).unwrap();
        assert_eq!(bare.profiled_visitor(), None);
    }
}
