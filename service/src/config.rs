//! Reading a service's TOML configuration file. Parsing, environment overrides and
//! validation stay with each service: their options and sources differ.

use std::path::Path;

/// The configuration file named on the command line could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read config file {path}: {source}")]
pub struct ReadError {
    /// As the operator gave it, for the message.
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

impl ReadError {
    /// The read of `path` failed with `source`.
    pub fn new(path: &Path, source: std::io::Error) -> Self {
        Self {
            path: path.display().to_string(),
            source,
        }
    }
}

/// The text of `path`, or an empty document without one: no file means every option at
/// its default (and, for the collector, environment overrides only).
pub fn read_text(path: Option<&Path>) -> Result<String, ReadError> {
    match path {
        Some(path) => std::fs::read_to_string(path).map_err(|source| ReadError::new(path, source)),
        None => Ok(String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_path_is_an_empty_document() {
        assert_eq!(read_text(None).ok().as_deref(), Some(""));
    }

    #[test]
    fn reads_the_file_and_names_a_missing_one() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("service.toml");
        std::fs::write(&path, "[server]\n").expect("write");
        assert_eq!(read_text(Some(&path)).ok().as_deref(), Some("[server]\n"));
        let missing = dir.path().join("missing.toml");
        let err = read_text(Some(&missing)).expect_err("missing file");
        assert!(
            err.to_string()
                .starts_with(&format!("cannot read config file {}: ", missing.display()))
        );
        assert_eq!(err.source.kind(), std::io::ErrorKind::NotFound);
    }
}
