//! Bounded CSS-like selector paths ("main>div.results>a#course-42") describing where a
//! click or hover happened, without any of the element's content.

use alloc::string::String;

/// How many elements (target and ancestors) a path may name.
pub const MAX_DEPTH: usize = 6;
/// How many class names per element: enough to tell siblings apart, not a class dump.
pub const MAX_CLASSES: usize = 2;
/// Class names longer than this are usually generated (CSS-in-JS hashes) and are skipped.
pub const MAX_CLASS_LEN: usize = 32;
/// Upper bound of the whole path.
pub const MAX_SELECTOR_BYTES: usize = 256;

/// What the selector needs to know about one element (borrowed from the string `js/dom.js`'s
/// `path` returns: no copies).
#[derive(Debug, Clone, Copy, Default)]
pub struct Node<'a> {
    /// Lower-case (`js/dom.js`'s `path` lowercases `tagName`).
    pub tag: &'a str,
    pub id: &'a str,
    pub class: &'a str,
}

/// The path of `nodes`, given from the target outwards. It stops after an element with an
/// id (ids are unique, so the outer part adds nothing), at [`MAX_DEPTH`] elements, and
/// before exceeding [`MAX_SELECTOR_BYTES`].
pub fn build(nodes: &[Node]) -> String {
    let mut parts: alloc::vec::Vec<String> = alloc::vec::Vec::new();
    let mut total = 0;
    for node in nodes.iter().take(MAX_DEPTH) {
        let part = describe(node);
        if total + part.len() + 1 > MAX_SELECTOR_BYTES {
            break;
        }
        total += part.len() + 1;
        let has_id = !node.id.is_empty() && is_plain(node.id);
        parts.push(part);
        if has_id {
            break;
        }
    }
    let mut out = String::with_capacity(total);
    for (index, part) in parts.iter().rev().enumerate() {
        if index > 0 {
            out.push('>');
        }
        out.push_str(part);
    }
    out
}

fn describe(node: &Node) -> String {
    let mut out = String::new();
    out.push_str(node.tag);
    if !node.id.is_empty() && is_plain(node.id) {
        out.push('#');
        out.push_str(node.id);
        return out;
    }
    for class in node
        .class
        .split_ascii_whitespace()
        .filter(|class| class.len() <= MAX_CLASS_LEN && is_plain(class))
        .take(MAX_CLASSES)
    {
        out.push('.');
        out.push_str(class);
    }
    out
}

/// Identifier characters only, so the path needs no escaping and cannot carry free text.
fn is_plain(name: &str) -> bool {
    name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node<'a>(tag: &'a str, id: &'a str, class: &'a str) -> Node<'a> {
        Node { tag, id, class }
    }

    #[test]
    fn names_target_last_and_stops_at_an_id() {
        let nodes = [
            node("a", "", "card-link primary extra"),
            node("div", "", "results"),
            node("main", "content", ""),
            node("body", "", ""),
        ];
        assert_eq!(
            build(&nodes),
            "main#content>div.results>a.card-link.primary"
        );
    }

    #[test]
    fn is_bounded_in_depth_and_skips_odd_names() {
        let nodes: alloc::vec::Vec<Node> = (0..20)
            .map(|_| {
                node(
                    "div",
                    "has space",
                    "x y:z css-1a2b3c4d5e6f7g8h9i0j1k2l3m4n5o6p",
                )
            })
            .collect();
        let path = build(&nodes);
        assert_eq!(path.split('>').count(), MAX_DEPTH);
        assert!(path.split('>').all(|part| part == "div.x"));
    }

    #[test]
    fn is_bounded_in_length() {
        let long_class = "abcdefghijabcdefghijabcdefghij12";
        let class = alloc::format!("{long_class} {long_class}");
        let nodes: alloc::vec::Vec<Node> = (0..6).map(|_| node("section", "", &class)).collect();
        let path = build(&nodes);
        assert!(path.len() <= MAX_SELECTOR_BYTES, "{}", path.len());
        assert!(path.split('>').count() < 6);
    }
}
