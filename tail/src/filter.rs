//! Which decoded records get printed: by user key and by event kind.

use std::collections::HashSet;

use sightline_proto::{TOPIC_SUFFIXES, v1::EventKind};

use crate::{error::TailError, record::Line};

/// Kind names accepted by `--kind`, as printed in each line's `kind` field: every event
/// kind's name (sightline-proto's `EventKind::name`), `rejected` for dead letters and
/// `ad_decision` for sightline-decide's decision log.
pub fn kind_names() -> impl Iterator<Item = &'static str> {
    EventKind::ALL
        .into_iter()
        .map(EventKind::name)
        .chain([TOPIC_SUFFIXES.rejected, crate::record::DECISION_KIND])
}

/// Empty sets mean "everything".
#[derive(Debug, Default)]
pub struct Filter {
    users: HashSet<String>,
    kinds: HashSet<&'static str>,
}

impl Filter {
    pub fn new(users: &[String], kinds: &[String]) -> Result<Self, TailError> {
        let kinds = kinds
            .iter()
            .map(|k| {
                let wanted = k.trim().to_ascii_lowercase();
                kind_names()
                    .find(|name| *name == wanted)
                    .ok_or_else(|| TailError::UnknownKind {
                        kind: k.clone(),
                        known: kind_names().collect::<Vec<_>>().join(", "),
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            users: users.iter().map(|u| u.trim().to_owned()).collect(),
            kinds,
        })
    }

    pub fn accepts(&self, line: &Line) -> bool {
        let user_ok = self.users.is_empty()
            || line
                .key
                .as_ref()
                .is_some_and(|key| self.users.contains(key));
        let kind_ok = self.kinds.is_empty() || self.kinds.contains(line.kind);
        user_ok && kind_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Body;

    fn line(key: Option<&str>, kind: &'static str) -> Line {
        Line {
            topic: "sightline.clicks".into(),
            partition: 0,
            offset: 0,
            index: 0,
            key: key.map(str::to_owned),
            timestamp_ms: None,
            kind,
            privacy_mode: None,
            body: Body::Undecodable {
                error: String::new(),
            },
        }
    }

    #[test]
    fn empty_filter_accepts_everything() {
        let filter = Filter::new(&[], &[]).unwrap();
        assert!(filter.accepts(&line(None, "click")));
    }

    #[test]
    fn user_and_kind_must_both_match() {
        let filter = Filter::new(&["asha".into()], &["Ad_Click".into()]).unwrap();
        assert!(filter.accepts(&line(Some("asha"), "ad_click")));
        assert!(!filter.accepts(&line(Some("asha"), "click")));
        assert!(!filter.accepts(&line(Some("ravi"), "ad_click")));
        assert!(!filter.accepts(&line(None, "ad_click")));
    }

    #[test]
    fn unknown_kind_is_an_error_naming_the_choices() {
        let err = Filter::new(&[], &["clicks".into()]).unwrap_err();
        assert!(err.to_string().contains("ad_impression"), "{err}");
    }
}
