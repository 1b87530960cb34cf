//! Request enrichment from what only the edge knows in full — the client address before
//! truncation and the user agent: device, browser and OS (`user_agent`), country, region
//! and city (`geo`, optional City database), autonomous system and data-center membership
//! (`geo` ASN database, `datacenter`). Once per request: every event of a batch shares it.

pub mod datacenter;
pub mod geo;
pub mod user_agent;

use std::net::IpAddr;

use sightline_proto::v1::{CollectedEvent, GeoInfo, NetworkInfo};

use crate::config::EnrichConfig;
use datacenter::Datacenters;
use geo::{GeoError, MmdbFile};
use user_agent::{AgentInfo, AgentParser};

/// What the edge learned about one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Enrichment {
    pub agent: AgentInfo,
    pub geo: Option<GeoInfo>,
    pub network: Option<NetworkInfo>,
}

impl Enrichment {
    /// Copies the facts into the fields every event of the batch shares.
    pub fn apply(&self, shared: &mut CollectedEvent) {
        shared.device = Some(self.agent.device.clone());
        shared.geo.clone_from(&self.geo);
        shared.network.clone_from(&self.network);
    }

    pub fn datacenter(&self) -> bool {
        self.network.as_ref().is_some_and(|n| n.datacenter)
    }
}

pub struct Enricher {
    agents: AgentParser,
    city: Option<MmdbFile>,
    asn: Option<MmdbFile>,
    datacenters: Datacenters,
}

impl Enricher {
    /// Opens the configured databases (none configured: geo and ASN stay empty).
    pub fn new(config: &EnrichConfig) -> Result<Self, GeoError> {
        let open = |path: &std::path::Path| {
            (!path.as_os_str().is_empty())
                .then(|| MmdbFile::open(path))
                .transpose()
        };
        Ok(Self {
            agents: AgentParser::new(config.user_agent_cache),
            city: open(&config.city_db)?,
            asn: open(&config.asn_db)?,
            datacenters: Datacenters::new(&config.datacenter_asns, &config.datacenter_ranges),
        })
    }

    /// `ip` is the full client address (never stored: only what is derived from it).
    pub fn enrich(&self, ip: IpAddr, user_agent: &str) -> Enrichment {
        let agent = self.agents.parse(user_agent);
        let geo = self.city.as_ref().and_then(|db| db.city(ip));
        let (asn, as_org) = self
            .asn
            .as_ref()
            .and_then(|db| db.asn(ip))
            .unwrap_or_default();
        let datacenter = self.datacenters.contains(ip, asn);
        let network = (asn != 0 || datacenter).then_some(NetworkInfo {
            asn,
            as_org,
            datacenter,
        });
        Enrichment {
            agent,
            geo,
            network,
        }
    }

    /// Reloads every database whose file changed; errors are logged and the loaded
    /// version stays in use.
    pub fn reload_changed(&self) {
        for db in [&self.city, &self.asn].into_iter().flatten() {
            match db.reload_if_changed() {
                Ok(true) => tracing::info!(path = %db.path().display(), "reloaded database"),
                Ok(false) => {}
                Err(err) => tracing::warn!(%err, "database not reloaded; keeping the loaded one"),
            }
        }
    }

    /// Whether any database is configured (the reload task runs only then).
    pub fn has_databases(&self) -> bool {
        self.city.is_some() || self.asn.is_some()
    }
}
