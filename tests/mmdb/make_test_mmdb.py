"""Writes the enrichment tests' MaxMind-format databases (City and ASN layouts) with an
implementation independent of the collector's reader (PyPI `mmdb-writer`).

    make_test_mmdb.py OUT_DIR [CITY]

OUT_DIR/city.mmdb maps 203.0.113.0/24 (TEST-NET-3) to India / Karnataka / CITY (default
Bengaluru) and 198.51.100.0/24 (TEST-NET-2) to India / Maharashtra / Mumbai; OUT_DIR/asn.mmdb
maps 203.0.113.0/24 to AS64500 "Example Cloud" (the tests' data center) and 198.51.100.0/24
to AS64501 "Example Campus ISP". Files are replaced atomically (write, then rename), as a
database update in production should be.
"""

import os
import sys

from mmdb_writer import MMDBWriter, MmdbU32
from netaddr import IPSet

DATACENTER = "203.0.113.0/24"
CAMPUS = "198.51.100.0/24"


def city_record(region: str, region_name: str, city: str) -> dict:
    return {
        "country": {"iso_code": "IN", "names": {"en": "India"}},
        "subdivisions": [{"iso_code": region, "names": {"en": region_name}}],
        "city": {"names": {"en": city}},
    }


def write(writer: MMDBWriter, path: str) -> None:
    tmp = path + ".tmp"
    writer.to_db_file(tmp)
    os.replace(tmp, path)


def main() -> None:
    out = sys.argv[1]
    city = sys.argv[2] if len(sys.argv) > 2 else "Bengaluru"
    os.makedirs(out, exist_ok=True)

    cities = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoIP2-City",
                        languages=["en"], description="Sightline test City database")
    cities.insert_network(IPSet([DATACENTER]), city_record("KA", "Karnataka", city))
    cities.insert_network(IPSet([CAMPUS]), city_record("MH", "Maharashtra", "Mumbai"))
    write(cities, os.path.join(out, "city.mmdb"))

    asns = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-ASN",
                      languages=["en"], description="Sightline test ASN database")
    asns.insert_network(IPSet([DATACENTER]), {
        "autonomous_system_number": MmdbU32(64500),
        "autonomous_system_organization": "Example Cloud",
    })
    asns.insert_network(IPSet([CAMPUS]), {
        "autonomous_system_number": MmdbU32(64501),
        "autonomous_system_organization": "Example Campus ISP",
    })
    write(asns, os.path.join(out, "asn.mmdb"))


if __name__ == "__main__":
    main()
