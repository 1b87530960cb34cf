use crate::v1::{EventKind, event::Kind};

/// The [`EventKind`] of an event's payload; `Unspecified` when the payload is missing.
pub fn kind_of(kind: Option<&Kind>) -> EventKind {
    match kind {
        None => EventKind::Unspecified,
        Some(Kind::PageView(_)) => EventKind::PageView,
        Some(Kind::Click(_)) => EventKind::Click,
        Some(Kind::Scroll(_)) => EventKind::Scroll,
        Some(Kind::Hover(_)) => EventKind::Hover,
        Some(Kind::AdImpression(_)) => EventKind::AdImpression,
        Some(Kind::AdClick(_)) => EventKind::AdClick,
        Some(Kind::Search(_)) => EventKind::Search,
        Some(Kind::Custom(_)) => EventKind::Custom,
    }
}
