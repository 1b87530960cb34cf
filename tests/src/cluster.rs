//! Harness for the edge-tier proofs (`tests/tests/cluster_*.rs`, run by
//! `scripts/test-cluster.sh`): three real collectors speaking PROXY protocol v2 behind the
//! real HAProxy running the reference configuration `deploy/haproxy/haproxy.cfg`, on the
//! three-node Kafka cluster of `scripts/kafka-cluster.sh`. The load generator, the
//! read-back and the verdicts are the reliability harness's ([`crate::reliability`]).
//!
//! Ports come from `CLUSTER_PORT_BASE` with the layout `make cluster` uses (see
//! [`Ports`]); brokers are found through `SIGHTLINE_KAFKA` (the bootstrap list).

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use rdkafka::{
    ClientConfig,
    consumer::{BaseConsumer, Consumer},
};

use crate::{
    collector::get,
    kafka::{bootstrap, end_offsets, events_topic, topic},
    reliability::{
        CollectorProcess, LoadShape, LoadStats, Verdict, append_to_summary, env_secs, metric_of,
        quantile, repo_root,
    },
};

/// How many collectors stand behind the balancer (servers `collector-1..3` in haproxy.cfg).
pub const COLLECTORS: usize = 3;

/// The port layout shared with `scripts/cluster.sh` and `scripts/kafka-cluster.sh`.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub base: u16,
}

impl Ports {
    /// `CLUSTER_PORT_BASE`, default 28000 (what `make cluster` uses).
    pub fn from_env() -> Self {
        let base = std::env::var("CLUSTER_PORT_BASE")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(28000);
        Self { base }
    }

    fn at(self, offset: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.base + offset))
    }

    /// Where clients connect (HAProxy's frontend).
    pub fn balancer(self) -> SocketAddr {
        self.at(80)
    }

    /// HAProxy's stats page (`/stats;csv`) and Prometheus metrics.
    pub fn stats(self) -> SocketAddr {
        self.at(70)
    }

    /// Collector `i` (0-based; HAProxy's `collector-{i+1}`).
    pub fn collector(self, i: usize) -> SocketAddr {
        self.at(81 + i as u16)
    }

    /// A stand-alone collector reached without the balancer (the overhead proof).
    pub fn direct(self) -> SocketAddr {
        self.at(84)
    }
}

/// The proofs' steady load through the balancer: `SIGHTLINE_CLUSTER_SENDERS` (8)
/// closed-loop senders of 20-event batches pausing `SIGHTLINE_CLUSTER_PAUSE_MS` (20) between
/// requests — a few thousand events/s, enough to keep every collector and partition busy
/// without saturating two shared cores — each sender from its own client address
/// (127.77.<i>.1), as real clients would be.
pub fn steady_load() -> LoadShape {
    let senders = env_number("SIGHTLINE_CLUSTER_SENDERS", 8) as usize;
    let pause = Duration::from_millis(env_number("SIGHTLINE_CLUSTER_PAUSE_MS", 20));
    let mut shape = LoadShape::new(senders, 20, pause);
    shape.sources = (0..senders)
        .map(|i| std::net::IpAddr::from([127, 77, i as u8, 1]))
        .collect();
    shape
}

/// How long the load runs before an incident (the baseline window): `SIGHTLINE_CLUSTER_BASELINE_S` (10).
pub fn baseline() -> Duration {
    env_secs("SIGHTLINE_CLUSTER_BASELINE_S", 10)
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// HAProxy's name for collector `i`.
pub fn server_name(i: usize) -> String {
    format!("collector-{}", i + 1)
}

/// The settings of a collector behind the balancer, as `make cluster` runs it: PROXY v2
/// required, the balancer's address its only trusted proxy, the default 5 s readiness
/// grace (longer than HAProxy needs to see `/readyz` turn 503).
pub fn member_settings(i: usize) -> Vec<(String, String)> {
    vec![
        ("SIGHTLINE__SERVER__PROXY_PROTOCOL".into(), "true".into()),
        (
            "SIGHTLINE__SERVER__TRUSTED_PROXIES".into(),
            r#"["127.0.0.1/32"]"#.into(),
        ),
        ("SIGHTLINE__SERVER__COLLECTOR_ID".into(), server_name(i)),
        (
            "SIGHTLINE__SHUTDOWN__READINESS_GRACE_MS".into(),
            "5000".into(),
        ),
    ]
}

/// The real HAProxy with `deploy/haproxy/haproxy.cfg`, ports from [`Ports`].
pub struct Haproxy {
    child: Child,
    pub addr: SocketAddr,
    pub stats: SocketAddr,
}

/// One row of HAProxy's `/stats;csv` (a server or the backend's total).
#[derive(Debug, Clone, Default)]
pub struct ServerStat {
    pub name: String,
    /// `UP`, `DOWN`, `UP 1/2` (going down), `DOWN 1/2` (coming up), `MAINT`, `NOLB`.
    pub status: String,
    /// Effective weight (ramps during `slowstart`).
    pub weight: u64,
    /// Connection retries (`wretr`) and redispatches to another server (`wredis`).
    pub retries: u64,
    pub redispatches: u64,
    /// Failed connections (`econ`) and failed responses (`eresp`).
    pub connection_errors: u64,
    pub response_errors: u64,
    /// Responses HAProxy sent with 5xx (its own and the servers').
    pub http_5xx: u64,
    /// Requests sent to this server.
    pub requests: u64,
}

impl ServerStat {
    /// Receiving traffic: `UP`, or `UP 1/2` (one check failed, not out yet).
    pub fn in_pool(&self) -> bool {
        self.status.starts_with("UP")
    }

    /// Taken out: `DOWN` (or `DOWN 1/2` on its way back, `MAINT`).
    pub fn out_of_pool(&self) -> bool {
        self.status.starts_with("DOWN") || self.status == "MAINT"
    }
}

impl Haproxy {
    /// Starts `haproxy -db` (foreground) with the reference configuration and waits until
    /// its stats page answers. Its log (abnormal requests, server state changes) goes to
    /// `log`.
    pub async fn start(ports: Ports, log: &Path) -> anyhow::Result<Self> {
        let config = repo_root().join("deploy/haproxy/haproxy.cfg");
        let out =
            std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let mut command = Command::new("haproxy");
        command
            .arg("-db")
            .arg("-f")
            .arg(&config)
            .env("SIGHTLINE_LB_BIND", ports.balancer().to_string())
            .env("SIGHTLINE_LB_STATS_BIND", ports.stats().to_string())
            .env("SIGHTLINE_LB_SOURCE", "127.0.0.1")
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        for i in 0..COLLECTORS {
            command.env(
                format!("SIGHTLINE_COLLECTOR_{}", i + 1),
                ports.collector(i).to_string(),
            );
        }
        let child = command
            .spawn()
            .context("starting haproxy (installed by scripts/install-haproxy.sh)")?;
        let mut haproxy = Self {
            child,
            addr: ports.balancer(),
            stats: ports.stats(),
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if haproxy.servers().await.is_ok() {
                return Ok(haproxy);
            }
            if let Some(status) = haproxy.child.try_wait()? {
                bail!(
                    "haproxy exited during start-up ({status}); see {}",
                    log.display()
                );
            }
            if Instant::now() > deadline {
                bail!("haproxy's stats page did not answer within 15 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The backend's servers and its `BACKEND` total row, by name.
    pub async fn servers(&self) -> anyhow::Result<BTreeMap<String, ServerStat>> {
        let reply = get(self.stats, "/stats;csv").await?;
        if reply.status != 200 {
            bail!("stats page answered {}", reply.status);
        }
        parse_stats_csv(&reply.body, "collectors")
    }

    pub async fn server(&self, name: &str) -> anyhow::Result<ServerStat> {
        self.servers()
            .await?
            .remove(name)
            .with_context(|| format!("no server {name} in HAProxy's stats"))
    }

    /// Polls the stats every 50 ms until `name` satisfies `want`; the time it took.
    pub async fn wait_server(
        &self,
        name: &str,
        want: impl Fn(&ServerStat) -> bool,
        what: &str,
        timeout: Duration,
    ) -> anyhow::Result<Duration> {
        let started = Instant::now();
        loop {
            let stat = self.server(name).await?;
            if want(&stat) {
                return Ok(started.elapsed());
            }
            if started.elapsed() > timeout {
                bail!(
                    "{name} not {what} within {timeout:?} (status {})",
                    stat.status
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Rows of `backend` in HAProxy's CSV stats, keyed by server name (`BACKEND` = totals).
pub fn parse_stats_csv(text: &str, backend: &str) -> anyhow::Result<BTreeMap<String, ServerStat>> {
    let mut lines = text.lines();
    let header = lines
        .next()
        .and_then(|l| l.strip_prefix("# "))
        .context("stats CSV without a header")?;
    let columns: Vec<&str> = header.split(',').collect();
    let index = |name: &str| {
        columns
            .iter()
            .position(|c| *c == name)
            .with_context(|| format!("stats CSV has no column {name}"))
    };
    let (px, sv, status, weight) = (
        index("pxname")?,
        index("svname")?,
        index("status")?,
        index("weight")?,
    );
    let (wretr, wredis, econ, eresp) = (
        index("wretr")?,
        index("wredis")?,
        index("econ")?,
        index("eresp")?,
    );
    let (hrsp_5xx, stot) = (index("hrsp_5xx")?, index("stot")?);
    let mut servers = BTreeMap::new();
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.get(px) != Some(&backend) {
            continue;
        }
        let number = |i: usize| fields.get(i).and_then(|v| v.parse().ok()).unwrap_or(0);
        let name = fields.get(sv).copied().unwrap_or_default().to_owned();
        servers.insert(
            name.clone(),
            ServerStat {
                name,
                status: fields.get(status).copied().unwrap_or_default().to_owned(),
                weight: number(weight),
                retries: number(wretr),
                redispatches: number(wredis),
                connection_errors: number(econ),
                response_errors: number(eresp),
                http_5xx: number(hrsp_5xx),
                requests: number(stot),
            },
        );
    }
    Ok(servers)
}

/// Three collectors behind HAProxy, each with its own spool directory (kept across its
/// restarts, as a persistent volume would be).
pub struct Edge {
    pub ports: Ports,
    pub haproxy: Haproxy,
    collectors: Vec<Option<CollectorProcess>>,
    spools: Vec<tempfile::TempDir>,
    logs: tempfile::TempDir,
}

impl Edge {
    /// Starts the three collectors (settings of [`member_settings`] plus `extra(i)`),
    /// then HAProxy, and waits until HAProxy's own checks see all three UP. Collectors
    /// first: servers HAProxy finds healthy at its start get full weight at once, without
    /// the `slowstart` ramp of a server that was seen down.
    pub async fn start(extra: impl Fn(usize) -> Vec<(String, String)>) -> anyhow::Result<Self> {
        let ports = Ports::from_env();
        let logs = tempfile::tempdir()?;
        let spools = (0..COLLECTORS)
            .map(|_| tempfile::tempdir())
            .collect::<Result<Vec<_>, _>>()?;
        let mut collectors = Vec::new();
        for (i, spool) in spools.iter().enumerate() {
            collectors.push(Some(start_member(ports, i, spool.path(), &extra(i)).await?));
        }
        let haproxy = Haproxy::start(ports, &logs.path().join("haproxy.log")).await?;
        let edge = Self {
            ports,
            haproxy,
            collectors,
            spools,
            logs,
        };
        for i in 0..COLLECTORS {
            edge.wait_in_pool(i, Duration::from_secs(30)).await?;
        }
        Ok(edge)
    }

    /// (Re)starts collector `i` on its port and spool directory; waits for `/healthz`
    /// (not for HAProxy: see [`Edge::wait_in_pool`]).
    pub async fn start_collector(
        &mut self,
        i: usize,
        extra: &[(String, String)],
    ) -> anyhow::Result<()> {
        if self.collectors[i].is_some() {
            bail!("collector {i} is already running");
        }
        let process = start_member(self.ports, i, self.spools[i].path(), extra).await?;
        self.collectors[i] = Some(process);
        Ok(())
    }

    pub fn collector(&self, i: usize) -> anyhow::Result<&CollectorProcess> {
        self.collectors[i]
            .as_ref()
            .with_context(|| format!("collector {i} is not running"))
    }

    /// Hands collector `i` over (to stop or kill it); the edge forgets it.
    pub fn take_collector(&mut self, i: usize) -> anyhow::Result<CollectorProcess> {
        self.collectors[i]
            .take()
            .with_context(|| format!("collector {i} is not running"))
    }

    pub fn running(&self) -> impl Iterator<Item = &CollectorProcess> {
        self.collectors.iter().flatten()
    }

    /// Until HAProxy routes to collector `i` again; how long that took.
    pub async fn wait_in_pool(&self, i: usize, timeout: Duration) -> anyhow::Result<Duration> {
        self.haproxy
            .wait_server(&server_name(i), ServerStat::in_pool, "in the pool", timeout)
            .await
    }

    /// Until HAProxy has taken collector `i` out; how long that took.
    pub async fn wait_out_of_pool(&self, i: usize, timeout: Duration) -> anyhow::Result<Duration> {
        self.haproxy
            .wait_server(
                &server_name(i),
                ServerStat::out_of_pool,
                "out of the pool",
                timeout,
            )
            .await
    }

    /// A metric summed over the running collectors.
    pub async fn metric_sum(&self, sample: &str) -> anyhow::Result<f64> {
        let mut sum = 0.0;
        for collector in self.running() {
            sum += metric_of(&collector.metrics().await?, sample);
        }
        Ok(sum)
    }

    /// Waits until every running collector's spool is empty (at most `timeout` in all).
    pub async fn wait_spools_drained(&self, timeout: Duration) -> anyhow::Result<Duration> {
        let started = Instant::now();
        for collector in self.running() {
            let left = timeout.saturating_sub(started.elapsed());
            collector.wait_spool_drained(left).await?;
        }
        Ok(started.elapsed())
    }

    /// HAProxy's log so far (for a failing proof's message).
    pub fn haproxy_log(&self) -> String {
        std::fs::read_to_string(self.logs.path().join("haproxy.log")).unwrap_or_default()
    }
}

/// Collector `i` of the edge on its port and spool directory, with [`member_settings`]
/// and `extra`; waits for `/healthz`.
async fn start_member(
    ports: Ports,
    i: usize,
    spool: &Path,
    extra: &[(String, String)],
) -> anyhow::Result<CollectorProcess> {
    let mut settings = member_settings(i);
    settings.extend(extra.iter().cloned());
    let settings: Vec<(&str, &str)> = settings
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    CollectorProcess::start_at(ports.collector(i), spool, &bootstrap(), &settings).await
}

/// `scripts/kafka-cluster.sh ARGS…` on this run's port block; its standard output.
pub fn kafka_cluster(args: &[&str]) -> anyhow::Result<String> {
    let started = Instant::now();
    let output = Command::new(repo_root().join("scripts/kafka-cluster.sh"))
        .args(args)
        .env("CLUSTER_PORT_BASE", Ports::from_env().base.to_string())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running scripts/kafka-cluster.sh {}", args.join(" ")))?;
    if !output.status.success() {
        bail!(
            "scripts/kafka-cluster.sh {} failed: {}",
            args.join(" "),
            output.status
        );
    }
    eprintln!(
        "kafka-cluster {}: done in {:.1} s",
        args.join(" "),
        started.elapsed().as_secs_f64()
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Runs blocking work (rdkafka metadata, scripts) off the async workers, so the load
/// generator sharing the runtime keeps sending while it waits.
pub async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(work).await?
}

/// Pids of the running Kafka nodes (1..=3).
pub fn broker_pids() -> Vec<(i32, u32)> {
    (1..=3)
        .filter_map(|node| {
            let pid = kafka_cluster(&["pid", &node.to_string()]).ok()?;
            Some((node, pid.trim().parse().ok()?))
        })
        .collect()
}

/// The run directory `scripts/kafka-cluster.sh` keeps the nodes' storage in.
pub fn kafka_cluster_dir() -> PathBuf {
    let cache = std::env::var_os("SIGHTLINE_CACHE")
        .map_or_else(|| repo_root().join(".cache"), PathBuf::from);
    cache.join(format!("kafka/cluster-{}", Ports::from_env().base))
}

/// Bytes of `topic`'s log segments (`*.log`) on node `node`'s disk: what the broker stores
/// for its replicas of that topic (indexes excluded: they are preallocated, not data).
pub fn topic_log_bytes(node: i32, topic: &str) -> anyhow::Result<u64> {
    let data = kafka_cluster_dir().join(format!("node-{node}/data"));
    let mut bytes = 0;
    for entry in std::fs::read_dir(&data).with_context(|| format!("reading {}", data.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_partition = name
            .strip_prefix(topic)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|p| p.parse::<u32>().is_ok());
        if !is_partition {
            continue;
        }
        for file in std::fs::read_dir(entry.path())? {
            let file = file?;
            if file.path().extension().is_some_and(|e| e == "log") {
                bytes += file.metadata()?.len();
            }
        }
    }
    Ok(bytes)
}

/// Sightline's topics (`proto/topics.txt` with the default prefix).
pub fn sightline_topics() -> Vec<String> {
    sightline_proto::all_topic_suffixes().map(topic).collect()
}

/// Leader, replicas and in-sync replicas of one partition.
#[derive(Debug, Clone)]
pub struct PartitionState {
    pub topic: String,
    pub partition: i32,
    pub leader: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
}

/// Every partition of Sightline's topics, from a fresh metadata request.
pub fn partitions() -> anyhow::Result<Vec<PartitionState>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()?;
    let metadata = consumer.fetch_metadata(None, Duration::from_secs(10))?;
    let wanted = sightline_topics();
    let mut states = Vec::new();
    for t in metadata.topics() {
        if !wanted.iter().any(|w| w == t.name()) {
            continue;
        }
        for p in t.partitions() {
            states.push(PartitionState {
                topic: t.name().to_owned(),
                partition: p.id(),
                leader: p.leader(),
                replicas: p.replicas().to_vec(),
                isr: p.isr().to_vec(),
            });
        }
    }
    if states.is_empty() {
        bail!("no metadata for Sightline's topics");
    }
    Ok(states)
}

/// How many partitions each broker leads.
pub fn leaders_per_broker(states: &[PartitionState]) -> BTreeMap<i32, usize> {
    let mut counts = BTreeMap::new();
    for s in states {
        *counts.entry(s.leader).or_default() += 1;
    }
    counts
}

/// The smallest ISR over all partitions (3 = fully replicated).
pub fn min_isr(states: &[PartitionState]) -> usize {
    states.iter().map(|s| s.isr.len()).min().unwrap_or(0)
}

/// Sum of end offsets per Sightline topic: diff two of these to see what a proof wrote to
/// every topic (records, whatever their layout).
pub fn topic_ends() -> anyhow::Result<BTreeMap<String, i64>> {
    sightline_topics()
        .into_iter()
        .map(|t| {
            let end = end_offsets(&t)?.iter().map(|(_, o)| o).sum();
            Ok((t, end))
        })
        .collect()
}

/// Records written per topic between two [`topic_ends`], only the topics that changed,
/// e.g. `searches +41 200`.
pub fn topic_growth(
    before: &BTreeMap<String, i64>,
    after: &BTreeMap<String, i64>,
) -> BTreeMap<String, i64> {
    after
        .iter()
        .map(|(t, end)| (t.clone(), end - before.get(t).copied().unwrap_or(0)))
        .filter(|(_, grown)| *grown != 0)
        .collect()
}

/// The load sends only `search` events, valid and with the hot-user guard off: every
/// record of a proof belongs in `sightline.events` (layout v2, one record per request).
/// One in the dead letter or the overflow topic would be a routing fault the
/// lost/duplicated counts cannot see.
pub fn ensure_only_searches(written: &BTreeMap<String, i64>) -> anyhow::Result<()> {
    let searches = events_topic();
    let elsewhere: Vec<_> = written.keys().filter(|t| **t != searches).collect();
    anyhow::ensure!(
        elsewhere.is_empty(),
        "records written outside {searches}: {written:?}"
    );
    Ok(())
}

/// Nothing the collectors acknowledged is missing from Kafka.
pub fn ensure_nothing_lost(verdict: &Verdict) -> anyhow::Result<()> {
    anyhow::ensure!(
        verdict.lost == 0,
        "{} acknowledged events lost",
        verdict.lost
    );
    Ok(())
}

/// The client saw no status outside `allowed` (0 = transport error), and every 429/503 it
/// saw carried `Retry-After` (the collector's retryable refusals, not the balancer's).
pub fn ensure_client_saw_only(
    stats: &LoadStats,
    allowed: &[u16],
    edge: &Edge,
) -> anyhow::Result<()> {
    let unexpected: Vec<_> = stats
        .statuses
        .keys()
        .filter(|s| **s != 200 && !allowed.contains(s))
        .collect();
    anyhow::ensure!(
        unexpected.is_empty() && stats.retry_after_missing == 0,
        "the client saw {:?} (allowed besides 200: {allowed:?}; refusals without Retry-After: {})\n\
         HAProxy's log:\n{}",
        stats.statuses,
        stats.retry_after_missing,
        edge.haproxy_log()
    );
    Ok(())
}

/// Latency and outcomes of the requests sent in `[from, to)` of a load run.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub requests: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub statuses: BTreeMap<u16, u64>,
}

pub fn window(stats: &LoadStats, from: Duration, to: Duration) -> Window {
    let mut latencies = Vec::new();
    let mut statuses = BTreeMap::new();
    for s in stats
        .samples
        .iter()
        .filter(|s| s.sent_at >= from && s.sent_at < to)
    {
        latencies.push(s.ms);
        *statuses.entry(s.status).or_default() += 1;
    }
    Window {
        requests: latencies.len(),
        p50_ms: quantile(&latencies, 0.5),
        p99_ms: quantile(&latencies, 0.99),
        statuses,
    }
}

/// When latency recovered after an incident at `from`: the start of the first
/// `step`-long window from which `steady` consecutive windows (each with requests) all
/// have p99 ≤ `threshold_ms`, measured from `from`; `None` if that never happened before
/// `until`.
pub fn recovery(
    stats: &LoadStats,
    from: Duration,
    until: Duration,
    threshold_ms: f64,
    step: Duration,
    steady: u32,
) -> Option<Duration> {
    let calm = |t: Duration| {
        let w = window(stats, t, t + step);
        w.requests > 0 && w.p99_ms <= threshold_ms
    };
    let mut t = from;
    while t + step * steady <= until {
        if (0..steady).all(|k| calm(t + step * k)) {
            return Some(t - from);
        }
        t += step;
    }
    None
}

/// Statuses other than 200 as `503×4 502×1 transport×0`-style text ("none" when clean).
pub fn errors_text(statuses: &BTreeMap<u16, u64>) -> String {
    let parts: Vec<String> = statuses
        .iter()
        .filter(|(status, _)| **status != 200)
        .map(|(status, n)| match status {
            0 => format!("transport×{n}"),
            s => format!("{s}×{n}"),
        })
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(" ")
    }
}

/// One row of the table `scripts/test-cluster.sh` prints at the end: printed now and
/// appended to `$SIGHTLINE_CLUSTER_SUMMARY` when set.
pub fn report_row(proof: &str, verdict: &Verdict, statuses: &BTreeMap<u16, u64>, details: &str) {
    let row = format!(
        "| {proof} | {} | {} | {} | {} | {details} |",
        verdict.acked,
        verdict.lost,
        verdict.duplicates,
        errors_text(statuses)
    );
    eprintln!("CLUSTER {row}");
    append_summary(&row);
}

/// A free-form line under the table (measurements that are not a proof's row).
pub fn report_note(note: &str) {
    eprintln!("CLUSTER {note}");
    append_summary(note);
}

fn append_summary(line: &str) {
    append_to_summary("SIGHTLINE_CLUSTER_SUMMARY", line);
}

/// Seconds with one decimal, for the tables.
pub fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reliability::Sample;

    #[test]
    fn stats_csv_rows_are_read_by_column_name() {
        let csv = "# pxname,svname,qcur,stot,econ,eresp,wretr,wredis,status,weight,hrsp_5xx,\n\
                   sightline,FRONTEND,,10,,,,,OPEN,,0,\n\
                   collectors,collector-1,0,7,1,2,3,4,UP 1/2,100,5,\n\
                   collectors,BACKEND,0,7,1,2,3,4,UP,300,5,\n";
        let rows = parse_stats_csv(csv, "collectors").expect("parses");
        let c1 = &rows["collector-1"];
        assert_eq!(c1.status, "UP 1/2");
        assert!(c1.in_pool() && !c1.out_of_pool());
        assert_eq!(
            (c1.requests, c1.connection_errors, c1.response_errors),
            (7, 1, 2)
        );
        assert_eq!(
            (c1.retries, c1.redispatches, c1.weight, c1.http_5xx),
            (3, 4, 100, 5)
        );
        assert_eq!(rows["BACKEND"].weight, 300);
        assert!(!rows.contains_key("FRONTEND"));
    }

    fn stats(samples: &[(u64, f64)]) -> LoadStats {
        LoadStats {
            samples: samples
                .iter()
                .map(|&(ms_at, ms)| Sample {
                    sent_at: Duration::from_millis(ms_at),
                    ms,
                    status: 200,
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn recovery_is_the_first_of_several_calm_windows() {
        // Slow from 0 to 3 s, one fast second at 1 s (not steady), fast from 3 s on.
        let mut samples = Vec::new();
        for t in (0..6000).step_by(100) {
            let slow = t < 3000 && !(1000..2000).contains(&t);
            samples.push((t, if slow { 900.0 } else { 10.0 }));
        }
        let s = stats(&samples);
        let second = Duration::from_secs(1);
        assert_eq!(
            recovery(&s, Duration::ZERO, Duration::from_secs(6), 50.0, second, 3),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            recovery(&s, Duration::ZERO, Duration::from_secs(5), 50.0, second, 3),
            None,
            "not enough calm windows before the end"
        );
        let w = window(&s, Duration::ZERO, second);
        assert_eq!((w.requests, w.p99_ms), (10, 900.0));
    }

    #[test]
    fn errors_text_lists_everything_but_200() {
        let statuses = BTreeMap::from([(0, 2), (200, 10), (502, 1)]);
        assert_eq!(errors_text(&statuses), "transport×2 502×1");
        assert_eq!(errors_text(&BTreeMap::from([(200, 3)])), "none");
    }
}
