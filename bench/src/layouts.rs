//! Record layouts side by side (issue 16): today's one-event-per-record layout (v1,
//! `routing.records = "per_event"`, the baseline) against one record per request (v2,
//! `per_batch`), in the same `make bench` run, alternating rounds, same load generator,
//! same broker; plus single-round lever variants (`per_kind`, codec, linger).
//!
//! scripts/bench.sh writes, per variant and round, `layout-VARIANT-rROUND.json` (closed
//! loop saturation), `…-50.json` (open loop at 50 % of it), `…-kafka.json` (the raw
//! producer on the same variant's records) and `…-disk.json` (log segment bytes the
//! broker wrote during the variant's collector runs, and the events the collector
//! accepted in them).

use std::{collections::BTreeMap, path::Path};

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{
    report::thousands,
    results::{KafkaCeilingReport, LoadReport},
};

/// Today's layout: one event per record on the kind topics.
pub const BASELINE: &str = "per_event";
/// The new default: one record per request on `sightline.events`.
pub const CANDIDATE: &str = "per_batch";

/// What the broker stored for one variant's collector runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DiskReport {
    /// Growth of the `*.log` segment files of every Sightline topic, bytes.
    pub log_bytes: u64,
    /// Events the collector accepted meanwhile (`events_accepted_total`, all kinds).
    pub events: u64,
}

/// One round of one variant.
#[derive(Debug, Default)]
pub struct Round {
    pub saturation: Option<LoadReport>,
    pub at_50: Option<LoadReport>,
    pub kafka: Option<KafkaCeilingReport>,
    pub disk: Option<DiskReport>,
}

/// Every variant's rounds, by variant name (`per_event`, `per_batch:zstd`, …).
#[derive(Debug, Default)]
pub struct Layouts {
    pub variants: BTreeMap<String, Vec<Round>>,
}

fn read<T: DeserializeOwned>(path: &Path) -> Option<T> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

impl Layouts {
    pub fn load(dir: &Path) -> Self {
        let mut names: BTreeMap<String, BTreeMap<u32, ()>> = BTreeMap::new();
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            let Some(rest) = file
                .strip_prefix("layout-")
                .and_then(|r| r.strip_suffix(".json"))
            else {
                continue;
            };
            let Some((variant, round)) = rest.rsplit_once("-r") else {
                continue;
            };
            if let Ok(round) = round.parse::<u32>() {
                names
                    .entry(variant.to_owned())
                    .or_default()
                    .insert(round, ());
            }
        }
        let variants = names
            .into_iter()
            .map(|(variant, rounds)| {
                let runs = rounds
                    .into_keys()
                    .map(|round| {
                        let base = format!("layout-{variant}-r{round}");
                        Round {
                            saturation: read(&dir.join(format!("{base}.json"))),
                            at_50: read(&dir.join(format!("{base}-50.json"))),
                            kafka: read(&dir.join(format!("{base}-kafka.json"))),
                            disk: read(&dir.join(format!("{base}-disk.json"))),
                        }
                    })
                    .collect();
                (variant, runs)
            })
            .collect();
        Self { variants }
    }

    pub fn is_empty(&self) -> bool {
        self.variants.is_empty()
    }

    fn summary(&self, variant: &str) -> Option<Summary> {
        self.variants.get(variant).map(|rounds| Summary::of(rounds))
    }
}

/// Means over a variant's rounds (each `None` when no round measured it).
#[derive(Debug, Default, Clone, Copy)]
pub struct Summary {
    pub rounds: usize,
    pub events_per_s: Option<f64>,
    pub collector_us: Option<f64>,
    pub broker_us: Option<f64>,
    pub p99_50_ms: Option<f64>,
    pub disk_bytes_per_event: Option<f64>,
    pub ceiling_events_per_s: Option<f64>,
    pub ceiling_producer_us: Option<f64>,
    pub ceiling_broker_us: Option<f64>,
    pub events_per_record: Option<f64>,
    pub record_bytes: Option<f64>,
}

fn mean(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let values: Vec<f64> = values.flatten().filter(|v| v.is_finite()).collect();
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

fn cpu(r: Option<&LoadReport>, name: &str) -> Option<f64> {
    r?.cpu.get(name).map(|c| c.us_per_event)
}

impl Summary {
    fn of(rounds: &[Round]) -> Self {
        let m = |f: &dyn Fn(&Round) -> Option<f64>| mean(rounds.iter().map(f));
        Self {
            rounds: rounds.len(),
            events_per_s: m(&|r| r.saturation.as_ref().map(|s| s.events_per_s)),
            collector_us: m(&|r| cpu(r.saturation.as_ref(), "collector")),
            broker_us: m(&|r| cpu(r.saturation.as_ref(), "broker")),
            p99_50_ms: m(&|r| r.at_50.as_ref().map(|s| s.latency.p99_ms)),
            disk_bytes_per_event: m(&|r| {
                r.disk
                    .as_ref()
                    .filter(|d| d.events > 0)
                    .map(|d| d.log_bytes as f64 / d.events as f64)
            }),
            ceiling_events_per_s: m(&|r| r.kafka.as_ref().map(|k| k.events_per_s)),
            ceiling_producer_us: m(&|r| {
                r.kafka
                    .as_ref()?
                    .cpu
                    .get("kafka-ceiling")
                    .map(|c| c.us_per_event)
            }),
            ceiling_broker_us: m(&|r| r.kafka.as_ref()?.cpu.get("broker").map(|c| c.us_per_event)),
            events_per_record: m(&|r| {
                let k = r.kafka.as_ref()?;
                (k.records_acked > 0).then(|| k.events_acked as f64 / k.records_acked as f64)
            }),
            record_bytes: m(&|r| r.kafka.as_ref().map(|k| k.mean_record_bytes)),
        }
    }
}

const NA: &str = "n/a";

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

fn num(v: Option<f64>, unit: &str, decimals: usize) -> String {
    v.map_or(NA.into(), |v| {
        if decimals == 0 {
            format!("{}{unit}", thousands(v))
        } else {
            format!("{v:.decimals$}{unit}")
        }
    })
}

fn goal(text: &str, met: Option<bool>) -> String {
    match met {
        Some(true) => format!("{text} (met)"),
        Some(false) => format!("{text} (**missed**)"),
        None => text.into(),
    }
}

/// The side-by-side table: baseline, candidate, ratio, the issue's goal.
pub fn table(l: &Layouts) -> String {
    let (Some(v1), Some(v2)) = (l.summary(BASELINE), l.summary(CANDIDATE)) else {
        return "The layout comparison did not run (see the bench log).\n".into();
    };
    let mut out = format!(
        "| Measure (mean of {} alternating rounds each) | `per_event` (v1, today's layout) | `per_batch` (v2, new default) | v2 / v1 | Goal |\n|---|---|---|---|---|\n",
        v1.rounds.min(v2.rounds)
    );
    let mut row = |measure: &str, a: String, b: String, r: Option<f64>, goal: String| {
        out.push_str(&format!(
            "| {measure} | {a} | {b} | {} | {goal} |\n",
            r.map_or(NA.into(), |r| format!("{r:.2}"))
        ));
    };
    let r = ratio(v2.events_per_s, v1.events_per_s);
    row(
        "Events/s at saturation (closed loop, acknowledged)",
        num(v1.events_per_s, "", 0),
        num(v2.events_per_s, "", 0),
        r,
        goal("≥ 2.5×", r.map(|r| r >= 2.5)),
    );
    let r = ratio(v2.collector_us, v1.collector_us);
    row(
        "Collector CPU per event at saturation",
        num(v1.collector_us, " µs", 2),
        num(v2.collector_us, " µs", 2),
        r,
        goal("≤ 1/3", r.map(|r| r <= 1.0 / 3.0)),
    );
    let r = ratio(v2.broker_us, v1.broker_us);
    row(
        "Broker CPU per event at saturation",
        num(v1.broker_us, " µs", 2),
        num(v2.broker_us, " µs", 2),
        r,
        goal("≤ 1/4", r.map(|r| r <= 0.25)),
    );
    row(
        "p99 latency at 50 % of saturation (open loop)",
        num(v1.p99_50_ms, " ms", 2),
        num(v2.p99_50_ms, " ms", 2),
        ratio(v2.p99_50_ms, v1.p99_50_ms),
        goal("≤ 20 ms", v2.p99_50_ms.map(|p| p <= 20.0)),
    );
    row(
        "Bytes per event on the broker's disk (log segments / events accepted)",
        num(v1.disk_bytes_per_event, " B", 1),
        num(v2.disk_bytes_per_event, " B", 1),
        ratio(v2.disk_bytes_per_event, v1.disk_bytes_per_event),
        String::new(),
    );
    let r = ratio(v2.ceiling_events_per_s, v1.ceiling_events_per_s);
    row(
        "Raw-producer ceiling (`kafka-ceiling`, same layout's records), events/s",
        num(v1.ceiling_events_per_s, "", 0),
        num(v2.ceiling_events_per_s, "", 0),
        r,
        String::new(),
    );
    row(
        "Collector saturation / its layout's ceiling",
        num(ratio(v1.events_per_s, v1.ceiling_events_per_s), "", 2),
        num(ratio(v2.events_per_s, v2.ceiling_events_per_s), "", 2),
        None,
        String::new(),
    );
    row(
        "Raw producer CPU per event (ceiling run)",
        num(v1.ceiling_producer_us, " µs", 2),
        num(v2.ceiling_producer_us, " µs", 2),
        ratio(v2.ceiling_producer_us, v1.ceiling_producer_us),
        String::new(),
    );
    row(
        "Broker CPU per event (ceiling run)",
        num(v1.ceiling_broker_us, " µs", 2),
        num(v2.ceiling_broker_us, " µs", 2),
        ratio(v2.ceiling_broker_us, v1.ceiling_broker_us),
        String::new(),
    );
    row(
        "Events per record · mean record value",
        format!(
            "{} · {}",
            num(v1.events_per_record, "", 1),
            num(v1.record_bytes, " B", 0)
        ),
        format!(
            "{} · {}",
            num(v2.events_per_record, "", 1),
            num(v2.record_bytes, " B", 0)
        ),
        None,
        String::new(),
    );
    out
}

/// Every variant in one table (levers are single rounds), then each round of the pair.
pub fn variants_table(l: &Layouts) -> String {
    let mut out = String::from(
        "| Variant | Rounds | events/s | collector µs/ev | broker µs/ev | p99 at 50 % | disk B/ev | ceiling events/s | ceiling producer µs/ev | ceiling broker µs/ev |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for (name, rounds) in &l.variants {
        let s = Summary::of(rounds);
        out.push_str(&format!(
            "| `{name}` | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            s.rounds,
            num(s.events_per_s, "", 0),
            num(s.collector_us, "", 2),
            num(s.broker_us, "", 2),
            num(s.p99_50_ms, " ms", 2),
            num(s.disk_bytes_per_event, "", 1),
            num(s.ceiling_events_per_s, "", 0),
            num(s.ceiling_producer_us, "", 2),
            num(s.ceiling_broker_us, "", 2),
        ));
    }
    out.push_str(
        "\nEach round of the pair, in the order they ran (baseline first in every round):\n\n\
         | Variant | Round | events/s | collector µs/ev | broker µs/ev | p99 at 50 % | disk B/ev | connections |\n|---|---|---|---|---|---|---|---|\n",
    );
    for name in [BASELINE, CANDIDATE] {
        for (i, round) in l.variants.get(name).into_iter().flatten().enumerate() {
            let s = Summary::of(std::slice::from_ref(round));
            out.push_str(&format!(
                "| `{name}` | {} | {} | {} | {} | {} | {} | {} |\n",
                i + 1,
                num(s.events_per_s, "", 0),
                num(s.collector_us, "", 2),
                num(s.broker_us, "", 2),
                num(s.p99_50_ms, " ms", 2),
                num(s.disk_bytes_per_event, "", 1),
                round
                    .saturation
                    .as_ref()
                    .map_or(NA.into(), |r| r.concurrency.to_string()),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::CpuUse;

    fn load(eps: f64, collector_us: f64) -> LoadReport {
        let mut cpu = BTreeMap::new();
        cpu.insert(
            "collector".to_owned(),
            CpuUse {
                cores: 1.0,
                us_per_event: collector_us,
            },
        );
        LoadReport {
            events_per_s: eps,
            cpu,
            ..Default::default()
        }
    }

    #[test]
    fn ratios_compare_the_candidate_with_the_baseline() {
        let mut l = Layouts::default();
        for (name, eps, us) in [(BASELINE, 100.0, 6.0), (CANDIDATE, 300.0, 1.5)] {
            l.variants.insert(
                name.into(),
                vec![Round {
                    saturation: Some(load(eps, us)),
                    disk: Some(DiskReport {
                        log_bytes: 1000,
                        events: 10,
                    }),
                    ..Default::default()
                }],
            );
        }
        let t = table(&l);
        assert!(t.contains("| 3.00 | ≥ 2.5× (met) |"), "{t}");
        assert!(t.contains("| 0.25 | ≤ 1/3 (met) |"), "{t}");
        assert!(t.contains("100.0 B"), "{t}");
    }
}
