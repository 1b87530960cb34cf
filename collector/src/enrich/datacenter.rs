//! Is an address a data center's? By its autonomous system (from the ASN database, against
//! `enrich.datacenter_asns`) or by configured ranges (`enrich.datacenter_ranges`, for
//! deployments without an ASN database or for ranges the lists miss). People browse from
//! homes, phones and campuses, not from cloud servers: a browser there is automation.

use std::{collections::HashSet, net::IpAddr};

use ipnet::IpNet;

pub struct Datacenters {
    asns: HashSet<u32>,
    ranges: Vec<IpNet>,
}

impl Datacenters {
    pub fn new(asns: &[u32], ranges: &[IpNet]) -> Self {
        Self {
            asns: asns.iter().copied().collect(),
            ranges: ranges.to_vec(),
        }
    }

    /// `asn` is 0 when unknown.
    pub fn contains(&self, ip: IpAddr, asn: u32) -> bool {
        let ip = ip.to_canonical();
        (asn != 0 && self.asns.contains(&asn)) || self.ranges.iter().any(|r| r.contains(&ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_asn_or_by_range() {
        let dc = Datacenters::new(&[16509], &["198.51.100.0/24".parse().unwrap()]);
        let home: IpAddr = "192.0.2.7".parse().unwrap();
        assert!(dc.contains(home, 16509));
        assert!(!dc.contains(home, 9829));
        assert!(!dc.contains(home, 0));
        assert!(dc.contains("198.51.100.200".parse().unwrap(), 0));
        assert!(dc.contains("::ffff:198.51.100.1".parse().unwrap(), 0));
        assert!(!dc.contains("198.51.101.1".parse().unwrap(), 0));
    }
}
