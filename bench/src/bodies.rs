//! The request bodies a load run cycles through, encoded (and gzipped) before the clock
//! starts so the load generator spends its CPU on sending, not on building.

use std::io::Write;

use bytes::Bytes;
use flate2::{Compression, write::GzEncoder};
use prost::Message;

use crate::workload::{BatchGenerator, WorkloadConfig};

/// One ready-to-send body.
#[derive(Debug, Clone)]
pub struct Body {
    pub bytes: Bytes,
    pub events: u32,
}

/// Encodes `count` batches from `workload`, gzipped when `gzip` is set (level 6, what
/// browsers' CompressionStream and most HTTP stacks use).
pub fn build(
    workload: WorkloadConfig,
    count: usize,
    now_ms: i64,
    gzip: bool,
) -> std::io::Result<Vec<Body>> {
    let mut generator = BatchGenerator::new(workload);
    (0..count.max(1))
        .map(|_| {
            let batch = generator.batch(now_ms);
            let raw = batch.encode_to_vec();
            let bytes = if gzip {
                let mut encoder =
                    GzEncoder::new(Vec::with_capacity(raw.len() / 2), Compression::default());
                encoder.write_all(&raw)?;
                encoder.finish()?
            } else {
                raw
            };
            Ok(Body {
                bytes: Bytes::from(bytes),
                events: u32::try_from(batch.events.len()).unwrap_or(u32::MAX),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn gzip_bodies_decompress_to_the_plain_ones() {
        let plain = build(WorkloadConfig::default(), 10, 5, false).unwrap();
        let gzipped = build(WorkloadConfig::default(), 10, 5, true).unwrap();
        for (p, g) in plain.iter().zip(&gzipped) {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&g.bytes[..])
                .read_to_end(&mut out)
                .unwrap();
            assert_eq!(out, p.bytes);
            assert_eq!(p.events, g.events);
            let batch = sightline_proto::v1::Batch::decode(&p.bytes[..]).unwrap();
            assert_eq!(batch.events.len() as u32, p.events);
        }
    }
}
