//! PROXY protocol version 2 (binary), as sent by cloud network load balancers in front
//! of the collector: the header precedes the HTTP bytes and names the real client.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::io::{AsyncRead, AsyncReadExt};

/// The 12-byte v2 signature.
pub const SIGNATURE: [u8; 12] = [
    0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
];
/// Fixed part: signature, version/command, family/protocol, length.
pub const FIXED_LEN: usize = 16;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProxyHeaderError {
    #[error("not a PROXY protocol v2 header")]
    BadSignature,
    #[error("unsupported PROXY protocol version {0}")]
    BadVersion(u8),
    #[error("unknown PROXY command {0}")]
    BadCommand(u8),
    #[error("address block of {got} bytes is too short for family {family:#04x}")]
    Truncated { family: u8, got: usize },
    #[error("reading the PROXY header: {0}")]
    Io(String),
}

/// What the header says about the connection.
#[derive(Debug, PartialEq, Eq)]
pub enum ProxyHeader {
    /// A proxied connection from `source`.
    Proxy { source: SocketAddr },
    /// Health checks from the balancer itself, or an address family we do not use
    /// (UNIX sockets, UNSPEC): keep the socket peer.
    Local,
}

/// Parses the 16 fixed bytes; returns the command byte, family byte and length of the
/// address block that follows.
pub fn parse_fixed(fixed: &[u8; FIXED_LEN]) -> Result<(u8, u8, usize), ProxyHeaderError> {
    if fixed[..12] != SIGNATURE {
        return Err(ProxyHeaderError::BadSignature);
    }
    let version = fixed[12] >> 4;
    if version != 2 {
        return Err(ProxyHeaderError::BadVersion(version));
    }
    let command = fixed[12] & 0x0F;
    if command > 1 {
        return Err(ProxyHeaderError::BadCommand(command));
    }
    let len = u16::from_be_bytes([fixed[14], fixed[15]]) as usize;
    Ok((command, fixed[13], len))
}

/// Interprets the address block for `command` and `family` (TLVs after the addresses
/// are ignored).
pub fn parse_addresses(
    command: u8,
    family: u8,
    block: &[u8],
) -> Result<ProxyHeader, ProxyHeaderError> {
    if command == 0 {
        return Ok(ProxyHeader::Local);
    }
    let truncated = || ProxyHeaderError::Truncated {
        family,
        got: block.len(),
    };
    match family >> 4 {
        // AF_INET: src addr 4, dst addr 4, src port 2, dst port 2.
        1 => {
            let b: &[u8; 12] = block
                .get(..12)
                .and_then(|s| s.try_into().ok())
                .ok_or_else(truncated)?;
            let ip = Ipv4Addr::new(b[0], b[1], b[2], b[3]);
            let port = u16::from_be_bytes([b[8], b[9]]);
            Ok(ProxyHeader::Proxy {
                source: SocketAddr::new(IpAddr::V4(ip), port),
            })
        }
        // AF_INET6: src 16, dst 16, src port 2, dst port 2.
        2 => {
            let b: &[u8; 36] = block
                .get(..36)
                .and_then(|s| s.try_into().ok())
                .ok_or_else(truncated)?;
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&b[..16]);
            let port = u16::from_be_bytes([b[32], b[33]]);
            Ok(ProxyHeader::Proxy {
                source: SocketAddr::new(IpAddr::V6(Ipv6Addr::from(octets)), port),
            })
        }
        _ => Ok(ProxyHeader::Local),
    }
}

/// Reads exactly one v2 header from `io` (never more, so the HTTP bytes stay unread).
pub async fn read_header<R: AsyncRead + Unpin>(
    io: &mut R,
) -> Result<ProxyHeader, ProxyHeaderError> {
    let io_err = |e: std::io::Error| ProxyHeaderError::Io(e.to_string());
    let mut fixed = [0u8; FIXED_LEN];
    io.read_exact(&mut fixed).await.map_err(io_err)?;
    let (command, family, len) = parse_fixed(&fixed)?;
    // len is a u16, so the block is at most 64 KiB: bounded.
    let mut block = vec![0u8; len];
    io.read_exact(&mut block).await.map_err(io_err)?;
    parse_addresses(command, family, &block)
}

/// Builds a v2 PROXY header for `source` → `destination` (used by tests and tools).
pub fn encode(source: SocketAddr, destination: SocketAddr) -> Vec<u8> {
    let mut out = SIGNATURE.to_vec();
    out.push(0x21);
    match (source, destination) {
        (SocketAddr::V4(s), SocketAddr::V4(d)) => {
            out.push(0x11);
            out.extend_from_slice(&12u16.to_be_bytes());
            out.extend_from_slice(&s.ip().octets());
            out.extend_from_slice(&d.ip().octets());
            out.extend_from_slice(&s.port().to_be_bytes());
            out.extend_from_slice(&d.port().to_be_bytes());
        }
        (s, d) => {
            let v6 = |a: SocketAddr| match a.ip() {
                IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                IpAddr::V6(v6) => v6,
            };
            out.push(0x21);
            out.extend_from_slice(&36u16.to_be_bytes());
            out.extend_from_slice(&v6(s).octets());
            out.extend_from_slice(&v6(d).octets());
            out.extend_from_slice(&s.port().to_be_bytes());
            out.extend_from_slice(&d.port().to_be_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ipv4_header_round_trip_leaves_http_bytes_unread() {
        let source: SocketAddr = "203.0.113.9:51000".parse().unwrap();
        let dest: SocketAddr = "10.0.0.5:8080".parse().unwrap();
        let mut wire = encode(source, dest);
        wire.extend_from_slice(b"GET / HTTP/1.1\r\n");
        let mut reader = wire.as_slice();
        let header = read_header(&mut reader).await.unwrap();
        assert_eq!(header, ProxyHeader::Proxy { source });
        assert_eq!(reader, b"GET / HTTP/1.1\r\n");
    }

    #[tokio::test]
    async fn ipv6_header_with_tlvs() {
        let source: SocketAddr = "[2001:db8::7]:443".parse().unwrap();
        let dest: SocketAddr = "[2001:db8::1]:8080".parse().unwrap();
        let mut wire = encode(source, dest);
        // Append a TLV (type 0x04 NOOP, length 3) and fix the length field.
        wire.extend_from_slice(&[0x04, 0x00, 0x03, 1, 2, 3]);
        wire[14..16].copy_from_slice(&(36u16 + 6).to_be_bytes());
        let header = read_header(&mut wire.as_slice()).await.unwrap();
        assert_eq!(header, ProxyHeader::Proxy { source });
    }

    #[test]
    fn local_command_and_unknown_family_keep_the_peer() {
        assert_eq!(parse_addresses(0, 0x11, &[]).unwrap(), ProxyHeader::Local);
        assert_eq!(
            parse_addresses(1, 0x31, &[0; 216]).unwrap(),
            ProxyHeader::Local
        );
    }

    #[test]
    fn malformed_headers_are_errors_not_panics() {
        let mut fixed = [0u8; FIXED_LEN];
        assert_eq!(parse_fixed(&fixed), Err(ProxyHeaderError::BadSignature));
        fixed[..12].copy_from_slice(&SIGNATURE);
        fixed[12] = 0x11;
        assert_eq!(parse_fixed(&fixed), Err(ProxyHeaderError::BadVersion(1)));
        fixed[12] = 0x2F;
        assert_eq!(parse_fixed(&fixed), Err(ProxyHeaderError::BadCommand(15)));
        assert!(matches!(
            parse_addresses(1, 0x11, &[1, 2, 3]),
            Err(ProxyHeaderError::Truncated { .. })
        ));
        assert!(matches!(
            parse_addresses(1, 0x21, &[0; 20]),
            Err(ProxyHeaderError::Truncated { .. })
        ));
    }

    #[tokio::test]
    async fn short_stream_is_an_io_error() {
        let wire = &SIGNATURE[..8];
        assert!(matches!(
            read_header(&mut &wire[..]).await,
            Err(ProxyHeaderError::Io(_))
        ));
    }
}
