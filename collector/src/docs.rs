//! The reference parts of `collector/README.md` — configuration options with their
//! defaults, error codes with their status, metrics — and the options of
//! `collector/sightline.example.toml`, generated from the code so they cannot drift:
//!
//! * options: the sections and fields of `Config` with their `///` comments (parsed from
//!   `config.rs`) and their defaults (the `Default` impls, serialized: the one source);
//! * error codes: `ApiError::examples()` with `code()`, `status()` and each variant's
//!   `///` comment (parsed from `error.rs`);
//! * metrics: the rendered registry (name, type, labels, help text).
//!
//! `make docs` (`SIGHTLINE_WRITE_DOCS=1 cargo test -p sightline-collector --lib docs`)
//! rewrites the marked README regions and the example's values; without the variable,
//! the tests fail when a file differs from the code and say what to run.

use std::{collections::BTreeMap, fmt::Write as _};

use crate::{
    config::Config, error::ApiError, metrics::Metrics, sinks::spool::metrics::SpoolMetrics,
};

const CONFIG_RS: &str = include_str!("config.rs");
const ERROR_RS: &str = include_str!("error.rs");
const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/sightline.example.toml");

/// A `pub` field of a struct in Rust source, with its `///` comment.
#[derive(Debug)]
struct Field {
    name: String,
    ty: String,
    doc: String,
    /// `#[serde(default)]` on the field.
    serde_default: bool,
}

/// The fields of `pub struct NAME` or the variants of `pub enum NAME` in rustfmt-formatted
/// `source` (for a variant, `ty` is the rest of its line).
fn items(source: &str, kind: &str, name: &str) -> Vec<Field> {
    let header = format!("pub {kind} {name} {{");
    let mut lines = source.lines().skip_while(|l| l.trim_start() != header);
    assert!(lines.next().is_some(), "`{header}` not found");
    let (mut out, mut doc, mut serde_default) = (Vec::new(), Vec::<&str>::new(), false);
    for line in lines.take_while(|l| *l != "}") {
        let line = line.trim();
        if let Some(text) = line.strip_prefix("///") {
            doc.push(text.trim());
        } else if line.starts_with("#[") {
            serde_default |= line.contains("serde(default");
        } else if kind == "struct" && line.starts_with("pub ")
            || kind == "enum" && line.starts_with(char::is_uppercase)
        {
            let item = line.strip_prefix("pub ").unwrap_or(line);
            let end = item
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(item.len());
            let ty = item[end..]
                .trim_start_matches(':')
                .trim()
                .trim_end_matches(',');
            out.push(Field {
                name: item[..end].to_owned(),
                ty: ty.to_owned(),
                doc: doc.join(" "),
                serde_default,
            });
            doc.clear();
            serde_default = false;
        }
    }
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// A default as the README shows it: numbers and booleans bare, strings in backticks.
fn shown(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) if s.is_empty() => "`\"\"`".to_owned(),
        toml::Value::String(s) => format!("`{s}`"),
        toml::Value::Integer(_) | toml::Value::Boolean(_) | toml::Value::Float(_) => {
            value.to_string()
        }
        toml::Value::Array(a) if a.is_empty() => "`[]`".to_owned(),
        toml::Value::Table(t) if t.is_empty() => "`{}`".to_owned(),
        other => format!("`{other}`"),
    }
}

/// (name, struct) of a `Config` section: `[server]` → (`server`, `ServerConfig`).
type Section = (String, String);

/// Every `[section]` of `Config`, and the `[[array]]` ones.
fn sections() -> (Vec<Section>, Vec<Section>) {
    let (mut tables, mut arrays) = (Vec::new(), Vec::new());
    for field in items(CONFIG_RS, "struct", "Config") {
        match field
            .ty
            .strip_prefix("Vec<")
            .and_then(|t| t.strip_suffix('>'))
        {
            Some(element) => arrays.push((field.name, element.to_owned())),
            None => tables.push((field.name, field.ty)),
        }
    }
    (tables, arrays)
}

fn defaults() -> toml::Table {
    match toml::Value::try_from(Config::default()) {
        Ok(toml::Value::Table(table)) => table,
        other => panic!("Config::default() does not serialize to a table: {other:?}"),
    }
}

/// The configuration reference table.
fn config_table() -> String {
    let defaults = defaults();
    let (tables, arrays) = sections();
    let mut out = String::from("| Option | Default | Meaning |\n|---|---|---|\n");
    let mut row = |option: String, default: String, doc: &str| {
        assert!(!doc.is_empty(), "{option}: no /// comment in config.rs");
        let _ = writeln!(out, "| `{option}` | {} | {} |", cell(&default), cell(doc));
    };
    for (section, ty) in &tables {
        for field in items(CONFIG_RS, "struct", ty) {
            let value = defaults
                .get(section)
                .and_then(|s| s.get(&field.name))
                .unwrap_or_else(|| panic!("{section}.{} has no default", field.name));
            row(
                format!("{section}.{}", field.name),
                shown(value),
                &field.doc,
            );
        }
    }
    for (array, ty) in &arrays {
        for field in items(CONFIG_RS, "struct", ty) {
            let default = if field.serde_default {
                "`[]`"
            } else {
                "required"
            };
            row(
                format!("[[{array}]] {}", field.name),
                default.to_owned(),
                &field.doc,
            );
        }
    }
    out
}

/// The error code table, by status.
fn errors_table() -> String {
    let docs: BTreeMap<String, String> = items(ERROR_RS, "enum", "ApiError")
        .into_iter()
        .map(|v| (v.name, v.doc))
        .collect();
    let examples = ApiError::examples();
    // (status, declaration order, code, doc): sorted by status, then as declared.
    let mut named: Vec<(u16, usize, &str, String)> = Vec::new();
    for (order, err) in examples.iter().enumerate() {
        let debug = format!("{err:?}");
        let variant: String = debug.chars().take_while(|c| c.is_alphanumeric()).collect();
        let doc = docs
            .get(&variant)
            .unwrap_or_else(|| panic!("ApiError::{variant} not found in error.rs"));
        assert!(!doc.is_empty(), "ApiError::{variant}: no /// comment");
        named.push((err.status().as_u16(), order, err.code(), doc.clone()));
    }
    let listed: Vec<&str> = docs.keys().map(String::as_str).collect();
    for variant in &listed {
        assert!(
            examples
                .iter()
                .any(|e| format!("{e:?}").starts_with(variant)),
            "ApiError::{variant} is missing from ApiError::examples() (error.rs)"
        );
    }
    named.sort();
    let mut out = String::from("| Status | Code | When |\n|---|---|---|\n");
    for (status, _, code, doc) in named {
        let _ = writeln!(out, "| {status} | `{code}` | {} |", cell(&doc));
    }
    out
}

/// The metrics table, in registration order.
fn metrics_table() -> String {
    let mut metrics = Metrics::new();
    let spool = SpoolMetrics::default();
    spool.register(metrics.registry_mut());
    metrics.touch_every_family();
    spool.touch_every_family();
    let text = metrics.render();
    let prefix = "sightline_collector_";
    let mut out = String::from("| Metric | Type | Labels | Meaning |\n|---|---|---|---|\n");
    let mut help = "";
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            help = rest.split_once(' ').map_or("", |(_, h)| h);
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (family, kind) = rest.split_once(' ').expect("# TYPE name type");
            let sample = text
                .lines()
                .find(|l| !l.starts_with('#') && l.starts_with(family))
                .unwrap_or_else(|| {
                    panic!("{family} has no series: add it to touch_every_family (metrics.rs)")
                });
            let labels: Vec<String> = sample
                .split_once('{')
                .map(|(_, l)| l.split_once('}').map_or("", |(l, _)| l))
                .unwrap_or("")
                .split(',')
                .filter_map(|pair| pair.split_once('=').map(|(name, _)| name.to_owned()))
                .filter(|name| name != "le")
                .map(|name| format!("`{name}`"))
                .collect();
            let name = family.strip_prefix(prefix).unwrap_or(family);
            let suffix = if kind == "counter" { "_total" } else { "" };
            let _ = writeln!(
                out,
                "| `{name}{suffix}` | {kind} | {} | {} |",
                labels.join(", "),
                cell(&help.replace("\\\\", "\\"))
            );
        }
    }
    out
}

/// Replaces (or checks) the text between `<!-- BEGIN GENERATED: NAME … -->` and
/// `<!-- END GENERATED: NAME -->`.
fn region<'a>(file: &'a str, name: &str) -> (usize, usize, &'a str) {
    let begin = format!("<!-- BEGIN GENERATED: {name} ");
    let end = format!("<!-- END GENERATED: {name} -->");
    let start = file
        .find(&begin)
        .and_then(|i| file[i..].find('\n').map(|n| i + n + 1))
        .unwrap_or_else(|| panic!("README.md lacks the marker {begin}…-->"));
    let stop = file[start..]
        .find(&end)
        .map(|i| start + i)
        .unwrap_or_else(|| panic!("README.md lacks the marker {end}"));
    (start, stop, &file[start..stop])
}

fn writing() -> bool {
    std::env::var_os("SIGHTLINE_WRITE_DOCS").is_some()
}

const STALE: &str = "is out of date with the code: run `make docs` and commit the result";

fn check_readme(name: &str, generated: &str) {
    let mut readme = std::fs::read_to_string(README).expect("read collector/README.md");
    let (start, stop, current) = region(&readme, name);
    if current == generated {
        return;
    }
    if writing() {
        readme.replace_range(start..stop, generated);
        std::fs::write(README, readme).expect("write collector/README.md");
    } else {
        panic!("collector/README.md table `{name}` {STALE}\n--- generated ---\n{generated}");
    }
}

/// Options of the example whose value differs from the default, or that it lacks
/// (empty tables such as `kafka.extra` are shown as comments there, not checked).
fn example_differences(example: &toml::Table) -> Vec<(String, String, toml::Value)> {
    let defaults = defaults();
    let (tables, _) = sections();
    let mut out = Vec::new();
    for (section, _) in tables {
        let Some(toml::Value::Table(want)) = defaults.get(&section) else {
            continue;
        };
        for (key, value) in want {
            if matches!(value, toml::Value::Table(t) if t.is_empty()) {
                continue;
            }
            let have = example.get(&section).and_then(|s| s.get(key));
            if have != Some(value) {
                out.push((section.clone(), key.clone(), value.clone()));
            }
        }
    }
    out
}

/// The example with `key = value` rewritten in place (its comment kept) or added at the
/// end of its section (a new section before `[[sites]]`).
fn rewrite_example(text: &str, fixes: &[(String, String, toml::Value)]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for (section, key, value) in fixes {
        let header = format!("[{section}]");
        let new = format!("{key} = {value}");
        let Some(head) = lines.iter().position(|l| l.trim() == header) else {
            let at = lines
                .iter()
                .position(|l| l.starts_with("[["))
                .unwrap_or(lines.len());
            lines.splice(at..at, [header, new, String::new()]);
            continue;
        };
        let end = lines[head + 1..]
            .iter()
            .position(|l| l.starts_with('['))
            .map_or(lines.len(), |i| head + 1 + i);
        let existing = (head + 1..end).find(|&i| {
            lines[i]
                .split_once('=')
                .is_some_and(|(k, _)| k.trim() == key.as_str())
        });
        match existing {
            Some(i) => {
                let comment = lines[i]
                    .find(" #")
                    .map(|c| (c, lines[i][c..].trim_start().to_owned()));
                lines[i] = match comment {
                    Some((column, comment)) => {
                        format!("{new:<width$} {comment}", width = column.max(new.len()))
                    }
                    None => new,
                };
            }
            None => {
                let last = (head..end)
                    .rev()
                    .find(|&i| !lines[i].trim().is_empty() && !lines[i].starts_with('#'))
                    .unwrap_or(head);
                lines.insert(last + 1, new);
            }
        }
    }
    lines.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readme_lists_every_option_with_its_default() {
        check_readme("config", &config_table());
    }

    #[test]
    fn readme_lists_every_error_code_with_its_status() {
        check_readme("errors", &errors_table());
    }

    #[test]
    fn readme_lists_every_metric() {
        check_readme("metrics", &metrics_table());
    }

    #[test]
    fn options_named_in_the_readme_exist() {
        let readme = std::fs::read_to_string(README).expect("read collector/README.md");
        let defaults = defaults();
        let mut checked = 0;
        for token in readme.split('`').skip(1).step_by(2) {
            let Some((section, option)) = token.split_once('.') else {
                continue;
            };
            let plain = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
            let Some(toml::Value::Table(options)) = defaults.get(section) else {
                continue;
            };
            if option.is_empty() || !option.chars().all(plain) {
                continue; // `kafka.queue_max_*` and the like
            }
            assert!(
                options.contains_key(option),
                "collector/README.md names `{token}`, which is not an option"
            );
            checked += 1;
        }
        assert!(
            checked > 50,
            "only {checked} option names found in the README"
        );
    }

    #[test]
    fn example_config_has_every_option_at_its_default() {
        let text = std::fs::read_to_string(EXAMPLE).expect("read sightline.example.toml");
        let example: toml::Table = text.parse().expect("the example is TOML");
        let differences = example_differences(&example);
        if differences.is_empty() {
            return;
        }
        if writing() {
            std::fs::write(EXAMPLE, rewrite_example(&text, &differences)).expect("write example");
            return;
        }
        let listed: Vec<String> = differences
            .iter()
            .map(|(s, k, v)| format!("[{s}] {k} = {v}"))
            .collect();
        panic!(
            "collector/sightline.example.toml {STALE}; expected:\n{}",
            listed.join("\n")
        );
    }

    #[test]
    fn the_generators_see_what_they_must() {
        // A field of the example config is found with its comment and serde default.
        let sites = items(CONFIG_RS, "struct", "SiteConfig");
        assert!(
            sites
                .iter()
                .any(|f| f.name == "allowed_origins" && f.serde_default)
        );
        assert!(sites.iter().any(|f| f.name == "key" && !f.serde_default));
        // Each table names what the code defines, including a value only the code knows.
        assert!(config_table().contains("| `limits.max_body_bytes` | 524288 |"));
        assert!(errors_table().contains("| 413 | `too_many_events` |"));
        let metrics = metrics_table();
        assert!(
            metrics.contains("| `http_requests_total` | counter | `route`, `status` |"),
            "{metrics}"
        );
        assert!(
            metrics.contains("| `spool_fallbacks_total` | counter | `reason` |"),
            "{metrics}"
        );
        // The example rewriter fixes a wrong value in place, keeping its comment, and adds a
        // missing option to its section.
        let text = "[limits]\nmax_body_bytes = 1   # 512 KiB\n\n[[sites]]\nkey = \"x\"\n";
        let fixed = rewrite_example(
            text,
            &[
                (
                    "limits".into(),
                    "max_body_bytes".into(),
                    toml::Value::Integer(524288),
                ),
                (
                    "limits".into(),
                    "max_url_len".into(),
                    toml::Value::Integer(2048),
                ),
                (
                    "log".into(),
                    "level".into(),
                    toml::Value::String("info".into()),
                ),
            ],
        );
        assert_eq!(
            fixed,
            "[limits]\nmax_body_bytes = 524288 # 512 KiB\nmax_url_len = 2048\n\n[log]\nlevel = \"info\"\n\n[[sites]]\nkey = \"x\"\n"
        );
    }
}
