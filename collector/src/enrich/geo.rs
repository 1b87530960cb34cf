//! Optional MaxMind-format databases (GeoIP2/GeoLite2/DB-IP City and ASN layouts), read with
//! the `maxminddb` crate. A database is loaded whole into memory at start and reloaded when
//! its file changes (modification time or size), without a restart: the providers publish
//! weekly updates, and a collector fleet must not be restarted for them.

use std::{
    net::IpAddr,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, RwLock},
    time::SystemTime,
};

use maxminddb::{Reader, geoip2};
use sightline_proto::v1::GeoInfo;

/// Why a database could not be (re)loaded.
#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a MaxMind DB: {detail}")]
    Invalid { path: String, detail: String },
}

/// One `.mmdb` file: the loaded reader and the file stamp it was loaded from.
pub struct MmdbFile {
    path: PathBuf,
    reader: RwLock<Arc<Reader<Vec<u8>>>>,
    stamp: Mutex<Stamp>,
}

/// What identifies a version of the file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
}

fn stamp(path: &Path) -> Result<Stamp, GeoError> {
    let meta = std::fs::metadata(path).map_err(|source| GeoError::Read {
        path: path.display().to_string(),
        source,
    })?;
    Ok(Stamp {
        modified: meta.modified().ok(),
        len: meta.len(),
    })
}

fn load(path: &Path) -> Result<Reader<Vec<u8>>, GeoError> {
    let bytes = std::fs::read(path).map_err(|source| GeoError::Read {
        path: path.display().to_string(),
        source,
    })?;
    Reader::from_source(bytes).map_err(|e| GeoError::Invalid {
        path: path.display().to_string(),
        detail: e.to_string(),
    })
}

impl MmdbFile {
    /// Loads `path`; an unreadable or invalid file is an error (a configured database that
    /// is not there is a deployment mistake worth refusing to start for).
    pub fn open(path: &Path) -> Result<Self, GeoError> {
        let before = stamp(path)?;
        let reader = load(path)?;
        Ok(Self {
            path: path.to_owned(),
            reader: RwLock::new(Arc::new(reader)),
            stamp: Mutex::new(before),
        })
    }

    /// Reloads the file if it changed since the last load. `Ok(true)`: reloaded. On an
    /// error (a half-written file, a file being replaced) the loaded version stays in use
    /// and the next call tries again.
    pub fn reload_if_changed(&self) -> Result<bool, GeoError> {
        let now = stamp(&self.path)?;
        let Ok(mut last) = self.stamp.lock() else {
            return Ok(false);
        };
        if *last == now {
            return Ok(false);
        }
        let reader = load(&self.path)?;
        if let Ok(mut current) = self.reader.write() {
            *current = Arc::new(reader);
        }
        *last = now;
        Ok(true)
    }

    fn current(&self) -> Option<Arc<Reader<Vec<u8>>>> {
        self.reader.read().ok().map(|r| Arc::clone(&r))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Country, first subdivision and city of `ip` from a City-layout database; `None`
    /// when the address is not in it (or the record does not decode: never an error on
    /// the request path).
    pub fn city(&self, ip: IpAddr) -> Option<GeoInfo> {
        let reader = self.current()?;
        let found = reader.lookup(ip).ok()?;
        let city: geoip2::City = found.decode().ok()??;
        let geo = GeoInfo {
            country: city.country.iso_code.unwrap_or_default().to_owned(),
            region: city
                .subdivisions
                .first()
                .and_then(|s| s.iso_code)
                .unwrap_or_default()
                .to_owned(),
            city: city.city.names.english.unwrap_or_default().to_owned(),
        };
        (geo != GeoInfo::default()).then_some(geo)
    }

    /// Autonomous system number and organisation of `ip` from an ASN-layout database.
    pub fn asn(&self, ip: IpAddr) -> Option<(u32, String)> {
        let reader = self.current()?;
        let found = reader.lookup(ip).ok()?;
        let asn: geoip2::Asn = found.decode().ok()??;
        Some((
            asn.autonomous_system_number?,
            asn.autonomous_system_organization
                .unwrap_or_default()
                .to_owned(),
        ))
    }
}
