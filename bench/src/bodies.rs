//! The request bodies a load run cycles through, encoded (and gzipped) before the clock
//! starts so the load generator spends its CPU on sending, not on building.

use std::io::Write;

use bytes::Bytes;
use flate2::{Compression, write::GzEncoder};
use prost::Message;

use crate::{
    json_baseline::segment_batch,
    workload::{BatchGenerator, WorkloadConfig},
};

/// How a batch is written on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// `sightline.v1.Batch`, as the browser SDK sends it.
    Protobuf,
    /// The same events as a Segment-spec JSON batch (the collector's import API), as a
    /// server library sends them.
    SegmentJson,
}

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
    build_as(workload, count, now_ms, gzip, BodyFormat::Protobuf)
}

/// [`build`] in the given wire format.
pub fn build_as(
    workload: WorkloadConfig,
    count: usize,
    now_ms: i64,
    gzip: bool,
    format: BodyFormat,
) -> std::io::Result<Vec<Body>> {
    let mut generator = BatchGenerator::new(workload);
    (0..count.max(1))
        .map(|_| {
            let batch = generator.batch(now_ms);
            let raw = match format {
                BodyFormat::Protobuf => batch.encode_to_vec(),
                BodyFormat::SegmentJson => segment_batch(&batch, "Mozilla/5.0 (sightline-loadgen)")
                    .to_string()
                    .into_bytes(),
            };
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

    #[test]
    fn segment_json_bodies_carry_every_event_as_a_message() {
        let bodies = build_as(
            WorkloadConfig::default(),
            5,
            1_700_000_000_000,
            false,
            BodyFormat::SegmentJson,
        )
        .unwrap();
        for body in &bodies {
            let json: serde_json::Value = serde_json::from_slice(&body.bytes).unwrap();
            let messages = json["batch"].as_array().unwrap();
            assert_eq!(messages.len(), body.events as usize);
            assert!(
                messages
                    .iter()
                    .all(|m| m["messageId"].as_str().is_some_and(|id| id.len() == 36))
            );
        }
    }
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
