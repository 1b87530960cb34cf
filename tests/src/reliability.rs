//! Harness for the zero-data-loss proofs (`tests/tests/reliability_*.rs`, run by
//! `scripts/test-reliability.sh`): the real collector binary as a child process, the
//! real broker stopped and started with `scripts/kafka.sh`, a load generator that
//! remembers every event id the collector acknowledged, and a reader that finds them
//! in Kafka and counts what is lost or duplicated.

use std::{
    collections::{BTreeMap, BTreeSet},
    net::{IpAddr, SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use prost::Message as _;
use rdkafka::{
    ClientConfig, Message, Offset, TopicPartitionList,
    consumer::{BaseConsumer, Consumer},
};
use sightline_proto::v1::{Search, event::Kind};

use crate::{
    collector::{Reply, batch, client, client_from, get, metric, request, request_proxied},
    kafka::{bootstrap, end_offsets, events_topic},
};

/// Workspace root (for the binary and `scripts/kafka.sh`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The collector binary: `SIGHTLINE_COLLECTOR_BIN`, else `target/debug/sightline-collector`.
pub fn collector_bin() -> PathBuf {
    std::env::var_os("SIGHTLINE_COLLECTOR_BIN").map_or_else(
        || repo_root().join("target/debug/sightline-collector"),
        PathBuf::from,
    )
}

/// A duration from the environment in seconds (e.g. `SIGHTLINE_OUTAGE_S`), else `default`.
pub fn env_secs(name: &str, default: u64) -> Duration {
    Duration::from_secs(
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default),
    )
}

/// Stops or starts the test broker with `scripts/kafka.sh stop|start` (storage kept).
/// Refuses to touch port 9092 (shared by other work on this machine).
pub fn kafka_ctl(action: &str) -> anyhow::Result<()> {
    let bootstrap = bootstrap();
    let port = bootstrap
        .rsplit(':')
        .next()
        .context("SIGHTLINE_KAFKA has no port")?;
    if port == "9092" {
        bail!("refusing to {action} the broker on 9092: run these tests on their own broker");
    }
    let started = Instant::now();
    let status = Command::new(repo_root().join("scripts/kafka.sh"))
        .arg(action)
        .env("KAFKA_PORT", port)
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("running scripts/kafka.sh {action}"))?;
    if !status.success() {
        bail!("scripts/kafka.sh {action} failed: {status}");
    }
    eprintln!(
        "kafka {action}: done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A free loopback port (bound then released; the collector binds it right after).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The real `sightline-collector` binary as a child process.
pub struct CollectorProcess {
    pub addr: SocketAddr,
    child: Child,
    /// Started with `server.proxy_protocol = true`: probes send a PROXY v2 header.
    proxy_protocol: bool,
}

impl CollectorProcess {
    /// Starts the binary with the example config (site `demo`), limits off, the given
    /// spool directory and extra `SIGHTLINE__*` overrides; waits for `/healthz`.
    pub async fn start(
        spool_dir: &Path,
        brokers: &str,
        overrides: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        Self::start_at(addr, spool_dir, brokers, overrides).await
    }

    /// [`CollectorProcess::start`] on a given address (a load balancer's configuration
    /// names it, and a restarted collector must come back on it).
    pub async fn start_at(
        addr: SocketAddr,
        spool_dir: &Path,
        brokers: &str,
        overrides: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let proxy_protocol = overrides
            .iter()
            .any(|&(name, value)| name == "SIGHTLINE__SERVER__PROXY_PROTOCOL" && value == "true");
        let root = repo_root();
        let mut command = Command::new(collector_bin());
        command
            .arg("--config")
            .arg(root.join("collector/sightline.example.toml"))
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--brokers")
            .arg(brokers)
            .env("SIGHTLINE__SPOOL__DIR", spool_dir)
            .env("SIGHTLINE__RATE_LIMITS__PER_IP_PER_S", "0")
            .env("SIGHTLINE__RATE_LIMITS__PER_SITE_EVENTS_PER_S", "0")
            .env("SIGHTLINE__RATE_LIMITS__HOT_USER_EVENTS_PER_S", "0")
            .env("SIGHTLINE__KAFKA__HEALTH_CHECK_INTERVAL_MS", "500")
            .env("SIGHTLINE__SHUTDOWN__READINESS_GRACE_MS", "300")
            .env("RUST_LOG", "warn,sightline_collector=info")
            .stdin(Stdio::null());
        for (name, value) in overrides {
            command.env(name, value);
        }
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", collector_bin().display()))?;
        let mut process = Self {
            addr,
            child,
            proxy_protocol,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(reply) = process.get("/healthz").await {
                if reply.status == 200 {
                    return Ok(process);
                }
            }
            if let Some(status) = process.child.try_wait()? {
                bail!("collector exited during start-up: {status}");
            }
            if Instant::now() > deadline {
                process.kill();
                bail!("collector did not answer /healthz within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `GET path` on this collector (through a PROXY v2 header when it requires one).
    pub async fn get(&self, path: &str) -> anyhow::Result<Reply> {
        if self.proxy_protocol {
            request_proxied(self.addr, None, http::Method::GET, path, &[], Vec::new()).await
        } else {
            get(self.addr, path).await
        }
    }

    /// SIGKILL, no chance to clean up.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for the exit (at most `timeout`).
    pub async fn terminate(mut self, timeout: Duration) -> anyhow::Result<ExitStatus> {
        // SAFETY: sending a signal to our own child by pid.
        let rc = unsafe { libc_kill(self.child.id() as i32, 15) };
        if rc != 0 {
            bail!("kill(SIGTERM) failed");
        }
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                self.kill();
                bail!("collector did not exit within {timeout:?} of SIGTERM");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Resident set size in KiB (from /proc).
    pub fn rss_kib(&self) -> Option<u64> {
        rss_kib(self.child.id())
    }

    pub async fn metrics(&self) -> anyhow::Result<String> {
        Ok(self.get("/metrics").await?.body)
    }

    /// Waits until the spool is empty (`spool_records` 0 on `/readyz`), at most `timeout`.
    pub async fn wait_spool_drained(&self, timeout: Duration) -> anyhow::Result<Duration> {
        let started = Instant::now();
        loop {
            let ready = self.get("/readyz").await?;
            let json = ready.json();
            if json["spool_records"].as_u64() == Some(0) && json["spool_bytes"].as_u64() == Some(0)
            {
                return Ok(started.elapsed());
            }
            if started.elapsed() > timeout {
                bail!(
                    "spool not drained within {timeout:?}: {}",
                    ready.body.trim()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

impl Drop for CollectorProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, signal: i32) -> i32;
}

/// Resident set size of a process in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// One answered (or failed) request of a load run.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// When the request was sent, from the start of the load.
    pub sent_at: Duration,
    /// Time to the answer (or the transport error), ms.
    pub ms: f64,
    /// HTTP status, 0 for a transport error.
    pub status: u16,
}

/// What a load run saw.
#[derive(Debug, Default)]
pub struct LoadStats {
    /// Every request in the order answered, for timelines (p99 in a window, recovery).
    pub samples: Vec<Sample>,
    /// Event ids of every request answered 200.
    pub acked: BTreeSet<Vec<u8>>,
    /// Answers by status (0 = transport error).
    pub statuses: BTreeMap<u16, u64>,
    /// Latencies of 200 answers, ms.
    pub ok_latencies_ms: Vec<f64>,
    /// Latencies of refusals (429/503), ms.
    pub refused_latencies_ms: Vec<f64>,
    /// `Retry-After` was present on every 429/503.
    pub retry_after_missing: u64,
}

impl LoadStats {
    pub fn count(&self, status: u16) -> u64 {
        self.statuses.get(&status).copied().unwrap_or(0)
    }
}

/// The `p`-quantile (0..=1) of `values`, 0 when empty.
pub fn quantile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// How a [`Load`] sends.
#[derive(Debug, Clone)]
pub struct LoadShape {
    /// Concurrent closed-loop senders (each keeps one keep-alive connection busy).
    pub senders: usize,
    /// Events per batch.
    pub events: usize,
    /// Pause after each answered request (zero: as fast as answers come).
    pub pause: Duration,
    /// Client addresses: sender `i` connects from `sources[i % len]`; empty: the OS picks.
    pub sources: Vec<IpAddr>,
    /// Extra request headers, e.g. a forged `X-Forwarded-For`.
    pub headers: Vec<(String, String)>,
}

impl LoadShape {
    pub fn new(senders: usize, events: usize, pause: Duration) -> Self {
        Self {
            senders,
            events,
            pause,
            sources: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// The user keys sender `sender` of run `run` sends as (7 per sender, in turn).
    pub fn user_keys(run: &str, sender: usize) -> Vec<String> {
        (0..7).map(|k| format!("{run}-{sender}-{k}")).collect()
    }
}

/// Closed-loop senders posting `search` batches until stopped; every user key starts
/// with `run` so the reader can pick this run's records out of the topic.
pub struct Load {
    stop: Arc<AtomicBool>,
    stats: Arc<Mutex<LoadStats>>,
    sent: Arc<AtomicU64>,
    started: Instant,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    /// `senders` concurrent loops of `events` events per batch, pausing `pause` between
    /// requests (zero: as fast as answers come).
    pub fn start(
        addr: SocketAddr,
        run: &str,
        senders: usize,
        events: usize,
        pause: Duration,
    ) -> Self {
        Self::start_shaped(addr, run, LoadShape::new(senders, events, pause))
    }

    /// Senders as described by `shape`.
    pub fn start_shaped(addr: SocketAddr, run: &str, shape: LoadShape) -> Self {
        let LoadShape {
            senders,
            events,
            pause,
            sources,
            headers,
        } = shape;
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Mutex::new(LoadStats::default()));
        let sent = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let mut headers: Vec<(String, String)> = headers;
        headers.push(("content-type".into(), "application/x-protobuf".into()));
        let headers = Arc::new(headers);
        let tasks = (0..senders)
            .map(|sender| {
                let (stop, stats, sent) = (stop.clone(), stats.clone(), sent.clone());
                let run = run.to_owned();
                let source = (!sources.is_empty()).then(|| sources[sender % sources.len()]);
                let headers = headers.clone();
                tokio::spawn(async move {
                    let http = source.map_or_else(client, client_from);
                    let headers: Vec<(&str, &str)> = headers
                        .iter()
                        .map(|(name, value)| (name.as_str(), value.as_str()))
                        .collect();
                    let url = format!("http://{addr}/v1/batch");
                    let mut i = 0u64;
                    while !stop.load(Ordering::SeqCst) {
                        i += 1;
                        let anon = format!("{run}-{sender}-{}", i % 7);
                        let b = batch(
                            &anon,
                            "",
                            (0..events)
                                .map(|j| {
                                    Kind::Search(Search {
                                        query: format!("{i}-{j}"),
                                        results_count: 1,
                                    })
                                })
                                .collect(),
                        );
                        let ids: Vec<Vec<u8>> =
                            b.events.iter().map(|e| e.event_id.clone()).collect();
                        let sent_at = Instant::now();
                        sent.fetch_add(1, Ordering::Relaxed);
                        let reply =
                            request(&http, http::Method::POST, &url, &headers, b.encode_to_vec())
                                .await;
                        let ms = sent_at.elapsed().as_secs_f64() * 1000.0;
                        let failed = {
                            let mut s = stats.lock().unwrap_or_else(|e| e.into_inner());
                            s.samples.push(Sample {
                                sent_at: sent_at.duration_since(started),
                                ms,
                                status: reply.as_ref().map_or(0, |r| r.status),
                            });
                            match &reply {
                                Ok(r) => {
                                    *s.statuses.entry(r.status).or_default() += 1;
                                    if r.status == 200 {
                                        s.acked.extend(ids);
                                        s.ok_latencies_ms.push(ms);
                                    } else if r.status == 429 || r.status == 503 {
                                        s.refused_latencies_ms.push(ms);
                                        if r.header("retry-after").is_none() {
                                            s.retry_after_missing += 1;
                                        }
                                    }
                                    r.status != 200
                                }
                                Err(_) => {
                                    *s.statuses.entry(0).or_default() += 1;
                                    true
                                }
                            }
                        };
                        if failed {
                            // A real client backs off; keeps a dead collector from
                            // turning this loop into a busy spin.
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        } else if !pause.is_zero() {
                            tokio::time::sleep(pause).await;
                        }
                    }
                })
            })
            .collect();
        Self {
            stop,
            stats,
            sent,
            started,
            tasks,
        }
    }

    /// Time since the load started (the clock of [`Sample::sent_at`]).
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Requests sent so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Event ids acknowledged so far.
    pub fn acked(&self) -> usize {
        self.stats.lock().map(|s| s.acked.len()).unwrap_or(0)
    }

    /// Waits until at least `events` more events than `from` were acknowledged: the fact a
    /// proof waits for ("the load is flowing", "requests kept being served"), never a fixed
    /// time. An error after `limit`.
    pub async fn wait_acked(
        &self,
        from: usize,
        events: usize,
        limit: Duration,
    ) -> anyhow::Result<usize> {
        let deadline = Instant::now() + limit;
        loop {
            let acked = self.acked();
            if acked >= from + events {
                return Ok(acked);
            }
            if Instant::now() > deadline {
                bail!(
                    "only {} of {events} more events acknowledged within {limit:?}",
                    acked - from.min(acked)
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops every sender (waiting for its last answer) and returns the statistics.
    pub async fn finish(self) -> LoadStats {
        self.stop.store(true, Ordering::SeqCst);
        for task in self.tasks {
            let _ = task.await;
        }
        std::mem::take(&mut *self.stats.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// What the broker holds of a run, compared to what was acknowledged.
#[derive(Debug, Clone, Copy, Default)]
pub struct Verdict {
    pub acked: usize,
    pub lost: usize,
    /// Extra copies of acknowledged events (at-least-once; consumers dedup by id).
    pub duplicates: usize,
    /// Distinct events of this run found in Kafka (acked or not).
    pub found: usize,
}

/// Offsets to read a run's records from (take them before the load starts).
pub fn start_offsets() -> anyhow::Result<Vec<(i32, i64)>> {
    end_offsets(&events_topic())
}

/// Reads `sightline.events` (the default layout's topic) from `start` until every acknowledged id was seen (plus a
/// short quiet period to count late duplicates) or `timeout`; compares.
pub fn verify(
    run: &str,
    start: &[(i32, i64)],
    acked: &BTreeSet<Vec<u8>>,
    timeout: Duration,
) -> anyhow::Result<Verdict> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("group.id", format!("sightline-reliability-{run}"))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .create()?;
    let mut assignment = TopicPartitionList::new();
    for &(partition, offset) in start {
        assignment.add_partition_offset(&events_topic(), partition, Offset::Offset(offset))?;
    }
    consumer.assign(&assignment)?;
    let prefix = format!("{run}-");
    let mut seen: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    let deadline = Instant::now() + timeout;
    let mut missing = acked.len();
    let mut quiet_since = Instant::now();
    while Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(200)) {
            Some(message) => {
                let message = message?;
                quiet_since = Instant::now();
                if !message
                    .key()
                    .is_some_and(|k| k.starts_with(prefix.as_bytes()))
                {
                    continue;
                }
                // Every event of the record (layout v2 holds a request's events).
                let message = message.detach();
                let Ok(events) = crate::kafka::events_of(&message) else {
                    continue;
                };
                for id in events
                    .into_iter()
                    .filter_map(|e| e.event)
                    .map(|e| e.event_id)
                {
                    let count = seen.entry(id.clone()).or_default();
                    *count += 1;
                    if *count == 1 && acked.contains(&id) {
                        missing -= 1;
                    }
                }
            }
            None if missing == 0 && quiet_since.elapsed() > Duration::from_secs(2) => break,
            None => {}
        }
    }
    let duplicates = acked
        .iter()
        .filter_map(|id| seen.get(id))
        .map(|n| n.saturating_sub(1))
        .sum();
    Ok(Verdict {
        acked: acked.len(),
        lost: missing,
        duplicates,
        found: seen.len(),
    })
}

/// Prints one summary line (and appends it to `$SIGHTLINE_RELIABILITY_SUMMARY` when set,
/// which `scripts/test-reliability.sh` prints at the end).
pub fn report(proof: &str, verdict: Option<&Verdict>, details: &str) {
    let counts = verdict.map_or_else(String::new, |v| {
        format!(
            "acked={} lost={} duplicates={} ",
            v.acked, v.lost, v.duplicates
        )
    });
    let line = format!("{proof:<28} {counts}{details}");
    eprintln!("RELIABILITY {line}");
    append_to_summary("SIGHTLINE_RELIABILITY_SUMMARY", &line);
}

/// Appends `line` to the file named by the environment variable `var`, when it is set
/// (the scripts that run the proofs print that file at the end).
pub fn append_to_summary(var: &str, line: &str) {
    if let Some(path) = std::env::var_os(var) {
        use std::io::Write;
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(file, "{line}");
        }
    }
}

/// A metric value from a collector's `/metrics` text (0 when absent).
pub fn metric_of(text: &str, sample: &str) -> f64 {
    metric(text, sample)
}

/// Upper bound of the bucket holding quantile `q` of a Prometheus histogram in a
/// collector's `/metrics` text, over the series whose labels contain `label`
/// (e.g. `outcome="refused"`); `None` when the series has no observations.
pub fn histogram_quantile(text: &str, name: &str, label: &str, q: f64) -> Option<f64> {
    let prefix = format!("{name}_bucket{{");
    let mut buckets: Vec<(f64, f64)> = text
        .lines()
        .filter(|line| line.starts_with(&prefix) && line.contains(label))
        .filter_map(|line| {
            let le = line.split("le=\"").nth(1)?.split('"').next()?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            let count = line.rsplit(' ').next()?.parse().ok()?;
            Some((le, count))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = buckets.last()?.1;
    if total <= 0.0 {
        return None;
    }
    buckets
        .iter()
        .find(|(_, cumulative)| *cumulative >= q * total)
        .map(|(le, _)| *le)
}

/// A fresh id for a run's user keys.
pub fn run_id(name: &str) -> String {
    format!("rel-{name}-{:08x}", rand::random::<u32>())
}
