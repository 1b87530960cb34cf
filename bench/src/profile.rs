//! Where the collector's instructions go per event, from the callgrind output file of
//! the `hotpath` workload.
//!
//! The file is read directly rather than through `callgrind_annotate`, whose inclusive
//! figures split a function into one line per source file of its inlined code.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Self and inclusive instruction counts per function, summed over all threads.
#[derive(Debug, Default)]
pub struct Costs {
    pub total: u64,
    pub inclusive: HashMap<String, u64>,
    pub self_cost: HashMap<String, u64>,
}

/// Parses a `callgrind.out` file (format version 1, `positions: line`, first event Ir).
///
/// A function's inclusive cost is its own cost lines plus the cost of the calls made
/// from them (callgrind records each call's inclusive cost on the line after `calls=`).
/// Calls from a function to itself are not added again.
pub fn parse_callgrind(text: &str) -> Costs {
    let mut names: HashMap<String, String> = HashMap::new();
    // "(12) name" defines id 12; "(12)" refers to it; a bare name is used as is.
    let mut resolve = |spec: &str| -> String {
        let spec = spec.trim();
        match spec.strip_prefix('(').and_then(|r| r.split_once(')')) {
            Some((id, rest)) => {
                let rest = rest.trim();
                if rest.is_empty() {
                    names.get(id).cloned().unwrap_or_else(|| format!("({id})"))
                } else {
                    names.insert(id.to_string(), rest.to_string());
                    rest.to_string()
                }
            }
            None => spec.to_string(),
        }
    };
    let mut costs = Costs::default();
    let mut current = String::new();
    let mut callee = String::new();
    let mut call_cost_next = false;
    for line in text.lines() {
        if let Some(spec) = line.strip_prefix("fn=") {
            current = resolve(spec);
        } else if let Some(spec) = line.strip_prefix("cfn=") {
            callee = resolve(spec);
        } else if line.starts_with("calls=") {
            call_cost_next = true;
        } else if let Some(total) = line
            .strip_prefix("summary:")
            .or_else(|| line.strip_prefix("totals:"))
        {
            costs.total = costs.total.max(
                total
                    .split_whitespace()
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0),
            );
        } else if line.starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '-' || c == '*')
        {
            let cost: u64 = line
                .split_whitespace()
                .nth(1)
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            if call_cost_next {
                call_cost_next = false;
                if callee != current {
                    *costs.inclusive.entry(current.clone()).or_default() += cost;
                }
            } else {
                *costs.self_cost.entry(current.clone()).or_default() += cost;
                *costs.inclusive.entry(current.clone()).or_default() += cost;
            }
        }
        // Other keys (ob, fl, fi, fe, cob, cfi, cfl, …) name objects and files in id
        // tables of their own; only function names matter here.
    }
    costs
}

/// A step of the path and the functions (substrings) whose inclusive cost is that step's.
pub struct Stage {
    pub name: &'static str,
    pub patterns: &'static [&'static str],
}

/// The steps, in request order. librdkafka's own threads (compression, protocol,
/// sockets) and rdkafka's delivery-report thread are "produce" work too, off the request
/// path; they are reported separately.
pub const STAGES: &[Stage] = &[
    Stage {
        name: "decode (protobuf Batch)",
        patterns: &["hotpath::stage_decode"],
    },
    Stage {
        name: "validate (+ clock correction)",
        patterns: &["hotpath::stage_validate"],
    },
    Stage {
        name: "enrich + IVT (agent, geo/ASN, GIVT and SIVT rules)",
        patterns: &["hotpath::stage_enrich"],
    },
    Stage {
        name: "encode (route → CollectedEvent records)",
        patterns: &["hotpath::stage_encode"],
    },
    Stage {
        name: "produce: enqueue + await acks (sink.deliver)",
        patterns: &["KafkaSink as sightline_collector::sinks::Sink>::deliver"],
    },
    Stage {
        name: "produce: librdkafka threads (batching, lz4, protocol, I/O)",
        patterns: &[
            "rd_kafka_broker_thread_main",
            "rd_kafka_thread_main",
            "BaseProducer<C,Part>::poll",
        ],
    },
];

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StageCost {
    pub name: String,
    pub instructions_per_event: f64,
    /// Share of the path (the sum of the stages).
    pub share: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TopFunction {
    pub function: String,
    pub instructions_per_event: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Profile {
    pub events: u64,
    pub total_instructions: u64,
    pub stages: Vec<StageCost>,
    /// Highest self cost, setup excluded where it can be told apart.
    pub top_self: Vec<TopFunction>,
    /// Cross-cutting costs over the whole program (see [`NOTABLE`]); `share` is of the
    /// program total.
    #[serde(default)]
    pub notable: Vec<StageCost>,
}

/// How a notable cost is counted.
pub enum Count {
    /// Sum of the self cost of functions named exactly so.
    SelfOf(&'static [&'static str]),
    /// Inclusive cost of the outermost function containing this.
    InclusiveOf(&'static str),
}

/// Costs that cut across the steps, worth naming in the findings.
pub const NOTABLE: &[(&str, Count)] = &[
    (
        "heap allocator (glibc malloc/free for librdkafka, mimalloc for Rust)",
        Count::SelfOf(&[
            // mimalloc, the collector's global allocator (and so of the ceiling's and
            // hotpath's Rust code); librdkafka's C code keeps glibc malloc.
            "mi_malloc",
            "mi_malloc_aligned",
            "mi_zalloc",
            "mi_zalloc_aligned",
            "mi_realloc_aligned",
            "mi_free",
            "mi_theap_malloc_aligned",
            "mi_theap_malloc_zero_aligned_at_generic",
            "mi_theap_malloc_zero_aligned_at_overalloc",
            "_mi_theap_realloc_zero",
            "_mi_page_malloc_zero",
            "_mi_malloc_generic",
            "_mi_page_free_collect",
            "_mi_free_generic",
            "mi_free_block_mt",
            "mi_page_queue_find_free_ex",
            "mi_bin",
            "malloc",
            "_int_malloc",
            "free",
            "_int_free",
            "cfree",
            "malloc_consolidate",
            "calloc",
            "realloc",
            "_int_realloc",
            "unlink_chunk.constprop.0",
            "__libc_malloc",
            "__libc_free",
            "__libc_calloc",
        ]),
    ),
    (
        "memset / memcpy / memmove",
        Count::SelfOf(&[
            "__memset_avx2_unaligned_erms",
            "__memcpy_avx_unaligned_erms",
            "__memmove_avx_unaligned_erms",
            "__memset_evex_unaligned_erms",
            "__memmove_evex_unaligned_erms",
        ]),
    ),
    (
        "librdkafka LZ4 frame setup per message set (LZ4F_compressBegin)",
        Count::InclusiveOf("LZ4F_compressBegin"),
    ),
    (
        "LZ4 compression proper (LZ4_compress_fast*)",
        Count::InclusiveOf("LZ4_compress_fast_extState"),
    ),
    (
        "protobuf varints (prost encode_varint + decode_varint)",
        Count::SelfOf(&[
            "prost::encoding::varint::encode_varint",
            "prost::encoding::varint::decode_varint",
        ]),
    ),
];

/// Largest inclusive cost among functions whose name contains `pattern` (the outermost
/// match; nested matches such as inner closures are inside it).
fn inclusive(costs: &Costs, pattern: &str) -> u64 {
    costs
        .inclusive
        .iter()
        .filter(|(name, _)| name.contains(pattern))
        .map(|(_, n)| *n)
        .max()
        .unwrap_or(0)
}

/// Builds the per-event split from a parsed callgrind file.
pub fn split(costs: &Costs, events: u64, top: usize) -> Profile {
    let per_event = |n: u64| n as f64 / events.max(1) as f64;
    let raw: Vec<(&str, u64)> = STAGES
        .iter()
        .map(|stage| {
            (
                stage.name,
                stage.patterns.iter().map(|p| inclusive(costs, p)).sum(),
            )
        })
        .collect();
    let path_total: u64 = raw.iter().map(|(_, n)| n).sum();
    let stages = raw
        .iter()
        .map(|(name, n)| StageCost {
            name: (*name).to_string(),
            instructions_per_event: per_event(*n),
            share: *n as f64 / path_total.max(1) as f64,
        })
        .collect();
    let mut by_self: Vec<(&String, &u64)> = costs.self_cost.iter().collect();
    by_self.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let top_self = by_self
        .into_iter()
        .take(top)
        .map(|(name, n)| TopFunction {
            function: shorten(name),
            instructions_per_event: per_event(*n),
        })
        .collect();
    let notable = NOTABLE
        .iter()
        .map(|(name, count)| {
            let n = match count {
                Count::SelfOf(names) => names.iter().filter_map(|f| costs.self_cost.get(*f)).sum(),
                Count::InclusiveOf(pattern) => inclusive(costs, pattern),
            };
            StageCost {
                name: (*name).to_string(),
                instructions_per_event: per_event(n),
                share: n as f64 / costs.total.max(1) as f64,
            }
        })
        .collect();
    Profile {
        events,
        total_instructions: costs.total,
        stages,
        top_self,
        notable,
    }
}

/// Function names without generic noise, cut to a readable length.
fn shorten(name: &str) -> String {
    const MAX: usize = 90;
    if name.chars().count() <= MAX {
        return name.to_string();
    }
    let cut: String = name.chars().take(MAX).collect();
    format!("{cut}…")
}

/// Parts of the whole collector process, from two callgrind runs of the real binary: one
/// idle (start, ready, stop) and one under a small fixed load. The difference divided by
/// the events is what each event costs, HTTP and runtime included.
pub const PROCESS_PARTS: &[Stage] = &[
    Stage {
        name: "request handler (routes::handle → ingest: limits, body, decode, validate, route, deliver)",
        patterns: &["sightline_collector::http::routes::handle"],
    },
    Stage {
        name: "  of which decode",
        patterns: &["sightline_collector::payload::decode"],
    },
    Stage {
        name: "  of which validate",
        patterns: &["sightline_collector::payload::process"],
    },
    Stage {
        name: "  of which enrich + IVT",
        patterns: &[
            "sightline_collector::enrich::Enricher::enrich",
            "sightline_collector::ivt::classify::request",
            "sightline_collector::ivt::classify_batch",
        ],
    },
    Stage {
        name: "  of which encode (route)",
        patterns: &["sightline_collector::routing::Router::route"],
    },
    Stage {
        name: "  of which rate limiters",
        patterns: &[
            "sightline_collector::limiters::Limiters::check_ip",
            "sightline_collector::limiters::Limiters::check_site",
            "sightline_collector::limiters::Limiters::check_user",
        ],
    },
    Stage {
        name: "  of which produce: enqueue + await acks (sink.deliver)",
        patterns: &["KafkaSink as sightline_collector::sinks::Sink>::deliver"],
    },
    Stage {
        name: "librdkafka threads + delivery reports",
        patterns: &[
            "rd_kafka_broker_thread_main",
            "rd_kafka_thread_main",
            "BaseProducer<C,Part>::poll",
        ],
    },
];

/// The whole-process profile.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProcessProfile {
    pub events: u64,
    /// (loaded − idle) total instructions per event.
    pub instructions_per_event: f64,
    /// Each part's marginal instructions per event; a part whose functions were
    /// inlined away shows 0 and is counted in the handler.
    pub parts: Vec<StageCost>,
    /// What is outside the handler and librdkafka: hyper's HTTP/1 parsing and writing,
    /// tokio scheduling, connection handling.
    pub rest_per_event: f64,
}

/// Marginal per-event split of the collector process (see [`PROCESS_PARTS`]).
pub fn split_process(idle: &Costs, loaded: &Costs, events: u64) -> ProcessProfile {
    let per_event = |n: u64| n as f64 / events.max(1) as f64;
    let marginal =
        |pattern: &str| inclusive(loaded, pattern).saturating_sub(inclusive(idle, pattern));
    let total = loaded.total.saturating_sub(idle.total);
    let parts: Vec<StageCost> = PROCESS_PARTS
        .iter()
        .map(|stage| {
            let n: u64 = stage.patterns.iter().map(|p| marginal(p)).sum();
            StageCost {
                name: stage.name.to_string(),
                instructions_per_event: per_event(n),
                share: n as f64 / total.max(1) as f64,
            }
        })
        .collect();
    // Top-level parts only (the "of which" lines are inside the handler).
    let top_level: f64 = parts
        .iter()
        .filter(|p| !p.name.starts_with(' '))
        .map(|p| p.instructions_per_event)
        .sum();
    ProcessProfile {
        events,
        instructions_per_event: per_event(total),
        rest_per_event: (per_event(total) - top_level).max(0.0),
        parts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // main → stage_decode (calls decode_inner) and main → deliver; a broker thread.
    const SAMPLE: &str = "\
# callgrind format
version: 1
positions: line
events: Ir
summary: 10000

ob=(1) /t/hotpath
fl=(1) hotpath.rs
fn=(1) hotpath::main
1 100
cfn=(2) hotpath::stage_decode
calls=1 5
2 4000
cfi=(2) kafka.rs
cfn=(3) <sightline_collector::sinks::kafka::KafkaSink as sightline_collector::sinks::Sink>::deliver::{{closure}}
calls=3 9
+1 500
fn=(2)
5 1000
cfn=(4) prost::decode_inner
calls=1 7
* 3000
fn=(4)
7 3000
fn=(3)
9 500
fn=(5) rd_kafka_broker_thread_main
3 2000
cfn=(5)
calls=1 3
* 999
";

    #[test]
    fn inclusive_costs_add_calls_but_not_self_calls() {
        let costs = parse_callgrind(SAMPLE);
        assert_eq!(costs.total, 10_000);
        assert_eq!(costs.inclusive["hotpath::stage_decode"], 4000);
        assert_eq!(costs.self_cost["hotpath::stage_decode"], 1000);
        assert_eq!(costs.inclusive["hotpath::main"], 4600);
        assert_eq!(
            costs.inclusive["rd_kafka_broker_thread_main"], 2000,
            "recursion is not double counted"
        );
        assert_eq!(costs.self_cost["prost::decode_inner"], 3000);
    }

    #[test]
    fn process_split_subtracts_the_idle_run() {
        let idle = parse_callgrind("summary: 1000\nfn=(1) rd_kafka_thread_main\n1 300\n");
        let loaded = parse_callgrind(
            "summary: 11000\nfn=(1) rd_kafka_thread_main\n1 2300\n\
             fn=(2) sightline_collector::http::routes::handle::{{closure}}\n1 1000\n\
             cfn=(3) sightline_collector::payload::decode\ncalls=1 1\n2 4000\nfn=(3)\n1 4000\n",
        );
        let p = split_process(&idle, &loaded, 10);
        assert_eq!(p.instructions_per_event, 1000.0);
        assert_eq!(
            p.parts[0].instructions_per_event, 500.0,
            "handler includes decode"
        );
        assert_eq!(p.parts[1].instructions_per_event, 400.0);
        assert_eq!(
            p.parts[PROCESS_PARTS.len() - 1].instructions_per_event,
            200.0
        );
        assert_eq!(p.rest_per_event, 300.0);
    }

    #[test]
    fn split_is_per_event_and_shares_add_up() {
        let p = split(&parse_callgrind(SAMPLE), 100, 2);
        assert_eq!(p.stages.len(), STAGES.len());
        assert_eq!(p.stages[0].instructions_per_event, 40.0);
        // The last two: sink.deliver and the librdkafka threads.
        assert_eq!(p.stages[STAGES.len() - 2].instructions_per_event, 5.0);
        assert_eq!(p.stages[STAGES.len() - 1].instructions_per_event, 20.0);
        let shares: f64 = p.stages.iter().map(|s| s.share).sum();
        assert!((shares - 1.0).abs() < 1e-9);
        assert_eq!(p.top_self[0].function, "prost::decode_inner");
        assert_eq!(p.total_instructions, 10_000);
    }
}
