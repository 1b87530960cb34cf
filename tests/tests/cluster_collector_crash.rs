//! Cluster proof 3: one of the three collectors is SIGKILLed under load while its spool
//! holds records. HAProxy takes it out within its check interval (measured from the kill),
//! the other two keep answering, and after a restart its spool is replayed: every
//! acknowledged event is in Kafka. Run by `scripts/test-cluster.sh`.
//!
//! With a healthy cluster a collector's spool is normally empty, so "its spool replays"
//! would prove nothing: the victim runs with `spool.direct_timeout_ms = 1`, i.e. every
//! request whose Kafka ack takes more than a millisecond is fsynced to the spool and
//! answered from there — the state a collector is in during a Kafka slowdown.

use std::time::{Duration, Instant};

use sightline_tests::{
    cluster::{
        Edge, baseline, ensure_client_saw_only, ensure_nothing_lost, ensure_only_searches,
        report_row, secs, server_name, steady_load, topic_ends, topic_growth, window,
    },
    reliability::{Load, metric_of, run_id, start_offsets, verify},
};

const VICTIM: usize = 1;
/// Spooled records wished for at the moment of the kill.
const SPOOLED_AT_KILL: f64 = 200.0;
/// HAProxy's worst case for a dead server: `fall` (2) checks `inter` (1 s) apart, each
/// failing at once (connection refused), plus a second of slack on a busy machine.
const TAKEN_OUT_WITHIN: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the Kafka cluster and haproxy: run by scripts/test-cluster.sh"]
async fn a_killed_collector_leaves_the_pool_and_replays_its_spool() -> anyhow::Result<()> {
    let mut edge = Edge::start(|i| {
        if i == VICTIM {
            vec![("SIGHTLINE__SPOOL__DIRECT_TIMEOUT_MS".into(), "1".into())]
        } else {
            Vec::new()
        }
    })
    .await?;
    let start = start_offsets()?;
    let ends_before = topic_ends()?;
    let run = run_id("crash");
    let shape = steady_load();
    let senders = shape.senders as u64;
    let load = Load::start_shaped(edge.ports.balancer(), &run, shape);
    tokio::time::sleep(baseline()).await;
    anyhow::ensure!(load.acked() > 0, "load flows before the kill");

    // Kill it at a moment its spool holds records not yet in Kafka: at least
    // SPOOLED_AT_KILL if that happens within 20 s, else any.
    let started = Instant::now();
    let (spool_records, spool_bytes) = loop {
        let m = edge.collector(VICTIM)?.metrics().await?;
        let records = metric_of(&m, "sightline_collector_spool_records");
        let enough = if started.elapsed() < Duration::from_secs(20) {
            SPOOLED_AT_KILL
        } else {
            1.0
        };
        if records >= enough {
            break (records, metric_of(&m, "sightline_collector_spool_bytes"));
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "the victim's spool stayed empty for 60 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let before_backend = edge.haproxy.server("BACKEND").await?;
    let killed_at = load.elapsed();
    edge.take_collector(VICTIM)?.kill();
    let taken_out = edge
        .wait_out_of_pool(VICTIM, Duration::from_secs(30))
        .await?;
    // Two collectors carry the load for a while.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after_backend = edge.haproxy.server("BACKEND").await?;

    let restarted_at = load.elapsed();
    edge.start_collector(VICTIM, &[]).await?;
    let drained = edge
        .collector(VICTIM)?
        .wait_spool_drained(Duration::from_secs(120))
        .await?;
    let m = edge.collector(VICTIM)?.metrics().await?;
    let replayed = metric_of(&m, "sightline_collector_spool_replayed_records_total");
    let corrupt = metric_of(&m, "sightline_collector_spool_corrupt_records_total");
    let back = edge.wait_in_pool(VICTIM, Duration::from_secs(60)).await?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let stats = load.finish().await;
    let verdict = verify(&run, &start, &stats.acked, Duration::from_secs(180))?;
    let written = topic_growth(&ends_before, &topic_ends()?);
    let victim_stats = edge.haproxy.server(&server_name(VICTIM)).await?;

    let before = window(&stats, killed_at / 2, killed_at);
    let two_left = window(&stats, killed_at, restarted_at);
    let details = format!(
        "SIGKILL with {spool_records:.0} records ({:.1} MiB) in its spool; HAProxy took it out {} \
         after the kill (bound {}); requests retried on another collector by HAProxy {} \
         (redispatched {}); restart: {replayed:.0} records replayed ({corrupt:.0} corrupt \
         skipped), spool empty {} after start, back in the pool {} after start (status {}); \
         p99 before {:.0} ms, with two collectors {:.0} ms; records written {written:?}",
        spool_bytes / 1_048_576.0,
        secs(taken_out),
        secs(TAKEN_OUT_WITHIN),
        after_backend.retries - before_backend.retries,
        after_backend.redispatches - before_backend.redispatches,
        secs(drained),
        secs(back),
        victim_stats.status,
        before.p99_ms,
        two_left.p99_ms,
    );
    report_row(
        "3 collector crash (SIGKILL)",
        &verdict,
        &stats.statuses,
        &details,
    );

    ensure_nothing_lost(&verdict)?;
    anyhow::ensure!(
        taken_out <= TAKEN_OUT_WITHIN,
        "HAProxy took {taken_out:?} to take the killed collector out\n{}",
        edge.haproxy_log()
    );
    anyhow::ensure!(replayed > 0.0, "the spool was replayed after the restart");
    ensure_only_searches(&written)?;
    // Only requests in flight on the killed collector may fail (502: HAProxy does not
    // replay a POST that reached a collector); new ones go to the others.
    ensure_client_saw_only(&stats, &[502, 503], &edge)?;
    anyhow::ensure!(
        stats.count(502) <= senders,
        "more 502s than requests in flight at the kill: {:?}",
        stats.statuses
    );
    Ok(())
}
