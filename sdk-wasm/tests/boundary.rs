//! The JS side of the JS↔Rust boundary must be what `src/boundary.rs` (the one definition)
//! and `src/web/js.rs` (the imports) say:
//!
//! - every JS file of the SDK with a `// @boundary <groups>` marker (`js/*.js`,
//!   `js/modules/*.js`) carries exactly the block rendered from the table for those groups;
//!   `SIGHTLINE_BLESS=1 cargo test -p sightline-sdk --test boundary` rewrites the blocks;
//! - every function the wasm imports from `js/dom.js` is exported there with the same
//!   parameters in the same order (wasm-bindgen passes them by position), and `js/dom.js`
//!   exports nothing else.
//!
//! The values JS puts into argument arrays are checked in a browser, against the same
//! table, by `tests/browser/boundary.test.mjs`.
#![cfg(not(target_arch = "wasm32"))]

use std::{fmt::Write as _, path::PathBuf};

use sightline_sdk::boundary::{GROUPS, Group, GroupKind};

const MARKER: &str = "// @boundary";
const END: &str = "// @end boundary";

fn sdk_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn group(name: &str) -> &'static Group {
    GROUPS
        .iter()
        .find(|g| g.module == name)
        .unwrap_or_else(|| panic!("`{MARKER} … {name}`: no group `{name}` in src/boundary.rs"))
}

/// The generated lines for `groups` (after the marker line, up to the end marker).
fn render(groups: &[&str]) -> String {
    let mut out = String::from(
        "// Generated from sdk-wasm/src/boundary.rs: do not edit; after changing the table run\n\
         // SIGHTLINE_BLESS=1 cargo test -p sightline-sdk --test boundary\n",
    );
    let mut layouts = Vec::new();
    for name in groups {
        let group = group(name);
        let names = || group.items.iter().map(|(item, value)| (*item, *value));
        match group.kind {
            GroupKind::Positions => {
                let mut slots: Vec<(&str, u32)> = names().collect();
                slots.sort_by_key(|slot| slot.1);
                let slots: Vec<&str> = slots.iter().map(|slot| slot.0).collect();
                layouts.push(format!("//   {} = [{}]\n", group.js, slots.join(", ")));
            }
            GroupKind::Codes | GroupKind::Separators => {
                let mut line = String::from("var");
                let mut first = true;
                for (item, value) in names() {
                    let value = if group.kind == GroupKind::Codes {
                        value.to_string()
                    } else {
                        format!("'\\u{value:04x}'")
                    };
                    let entry = format!(" {}_{item} = {value}", group.js);
                    if !first {
                        line.push(',');
                    }
                    if line.len() + entry.len() > 98 {
                        out.push_str(&line);
                        out.push('\n');
                        line = String::from("   ");
                    }
                    line.push_str(&entry);
                    first = false;
                }
                let _ = writeln!(out, "{line};");
            }
        }
    }
    if !layouts.is_empty() {
        out.push_str("// Arrays of numbers, slot by slot (the JS writes them positionally):\n");
        out.extend(layouts);
    }
    out
}

fn js_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["js", "js/modules"] {
        let Ok(entries) = std::fs::read_dir(sdk_dir().join(dir)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("dir entry").path();
            if path.extension().is_some_and(|e| e == "js") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The file with its blocks regenerated, or an error naming what is wrong.
fn regenerate(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut lines = text.split_inclusive('\n');
    while let Some(line) = lines.next() {
        out.push_str(line);
        let Some(groups) = line.trim_end().strip_prefix(MARKER) else {
            continue;
        };
        let groups: Vec<&str> = groups.split_whitespace().collect();
        if groups.is_empty() {
            return Err(format!("`{}` names no group", line.trim_end()));
        }
        out.push_str(&render(&groups));
        loop {
            match lines.next() {
                Some(line) if line.trim_end() == END => {
                    out.push_str(line);
                    break;
                }
                Some(_) => {}
                None => return Err(format!("`{}` without `{END}`", line.trim_end())),
            }
        }
    }
    Ok(out)
}

#[test]
fn every_js_boundary_block_is_rendered_from_the_rust_table() {
    let bless = std::env::var_os("SIGHTLINE_BLESS").is_some();
    let mut checked = 0;
    let mut stale = Vec::new();
    for path in js_files() {
        let text = std::fs::read_to_string(&path).expect("read");
        if !text.contains(MARKER) {
            continue;
        }
        checked += 1;
        let fresh = regenerate(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if fresh != text {
            if bless {
                std::fs::write(&path, &fresh).expect("write");
            } else {
                stale.push(path.display().to_string());
            }
        }
    }
    assert!(checked >= 1, "js/dom.js has no `{MARKER}` block");
    assert!(
        stale.is_empty(),
        "the boundary block differs from src/boundary.rs in {stale:?}; \
         run SIGHTLINE_BLESS=1 cargo test -p sightline-sdk --test boundary"
    );
}

/// `snake_case` → `camelCase`.
fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// (name, parameter names) of every `pub fn` in the `extern "C"` block of `src/web/js.rs`.
fn imports() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(sdk_dir().join("src/web/js.rs")).expect("src/web/js.rs");
    let block = text
        .split_once("extern \"C\" {")
        .and_then(|(_, rest)| rest.split_once("\n}"))
        .expect("an extern \"C\" block in src/web/js.rs")
        .0;
    let mut found = Vec::new();
    for item in block.split("pub fn ").skip(1) {
        let (name, rest) = item.split_once('(').expect("fn name(");
        let params = rest.split_once(')').expect("params)").0;
        let params = params
            .split(',')
            .filter_map(|p| p.split_once(':'))
            .map(|(name, _)| camel(name.trim()))
            .collect();
        found.push((name.trim().to_owned(), params));
    }
    found
}

/// (name, parameter names) of every `export function` of `js/dom.js`.
fn exports() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(sdk_dir().join("js/dom.js")).expect("js/dom.js");
    let mut found = Vec::new();
    for item in text.split("\nexport function ").skip(1) {
        let (name, rest) = item.split_once('(').expect("function name(");
        let params = rest.split_once(')').expect("params)").0;
        let params = params
            .split(',')
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect();
        found.push((name.trim().to_owned(), params));
    }
    found
}

#[test]
fn every_import_of_the_wasm_is_exported_by_dom_js_with_the_same_parameters() {
    let (imports, exports) = (imports(), exports());
    assert!(imports.len() >= 20, "parsed {imports:?}");
    let mut problems = Vec::new();
    for (name, params) in &imports {
        match exports.iter().find(|(export, _)| export == name) {
            None => problems.push(format!("js/dom.js does not export `{name}`")),
            Some((_, js)) if js != params => problems.push(format!(
                "`{name}`: src/web/js.rs passes ({}), js/dom.js takes ({})",
                params.join(", "),
                js.join(", ")
            )),
            Some(_) => {}
        }
    }
    for (name, _) in &exports {
        if !imports.iter().any(|(import, _)| import == name) {
            problems.push(format!(
                "js/dom.js exports `{name}`, which src/web/js.rs does not import"
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
