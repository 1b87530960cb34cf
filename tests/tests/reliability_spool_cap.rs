//! Proof 4: with Kafka unreachable the spool fills to its cap; then the collector
//! answers 503 `spool_full` with Retry-After, does not crash, its memory stays flat,
//! and everything it acknowledged reaches Kafka once a broker is there. Run by
//! `scripts/test-reliability.sh` (needs the binary).

use std::time::{Duration, Instant};

use sightline_tests::{
    collector::get,
    kafka::bootstrap,
    reliability::{CollectorProcess, Load, metric_of, report, run_id, start_offsets, verify},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the collector binary: run by scripts/test-reliability.sh"]
async fn a_full_spool_sheds_load_with_flat_memory() -> anyhow::Result<()> {
    let spool = tempfile::tempdir()?;
    let cap: u64 = 16 * 1024 * 1024;
    let cap_text = cap.to_string();
    let overrides = [
        ("SIGHTLINE__SPOOL__MAX_BYTES", cap_text.as_str()),
        ("SIGHTLINE__SPOOL__SEGMENT_BYTES", "1048576"),
        ("SIGHTLINE__KAFKA__ACK_TIMEOUT_MS", "2000"),
        ("SIGHTLINE__SHUTDOWN__FLUSH_TIMEOUT_MS", "2000"),
    ];
    // Nothing listens on port 1: Kafka is unreachable without touching the test broker.
    let collector = CollectorProcess::start(spool.path(), "127.0.0.1:1", &overrides).await?;
    let start = start_offsets()?;
    let run = run_id("cap");
    let load = Load::start(collector.addr, &run, 8, 20, Duration::ZERO);

    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let m = collector.metrics().await?;
        if metric_of(&m, "sightline_collector_spool_full_total") > 0.0 {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "spool cap not reached in 90 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let rss_at_cap = collector.rss_kib().unwrap_or(0);
    let mut rss_max = rss_at_cap;
    // RSS stays flat while the load keeps hitting the cap: sampled until 1 000 more appends
    // were refused with spool_full (the fact), not for a fixed time.
    let full_at_cap = metric_of(
        &collector.metrics().await?,
        "sightline_collector_spool_full_total",
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        rss_max = rss_max.max(collector.rss_kib().unwrap_or(0));
        let full = metric_of(
            &collector.metrics().await?,
            "sightline_collector_spool_full_total",
        );
        if full >= full_at_cap + 1_000.0 {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "load stopped hitting the cap: {full} refusals"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready = get(collector.addr, "/readyz").await?;
    let alive = get(collector.addr, "/healthz").await?.status;
    let m = collector.metrics().await?;
    let stats = load.finish().await;
    let spool_bytes = metric_of(&m, "sightline_collector_spool_bytes") as u64;

    // Shutdown with Kafka away still exits 0: the spool stays for the next start.
    let status = collector.terminate(Duration::from_secs(30)).await?;
    let collector = CollectorProcess::start(spool.path(), &bootstrap(), &[]).await?;
    let drain = collector
        .wait_spool_drained(Duration::from_secs(180))
        .await?;
    let verdict = verify(&run, &start, &stats.acked, Duration::from_secs(120))?;
    report(
        "proof4_spool_cap",
        Some(&verdict),
        &format!(
            "cap={cap} spool_bytes_at_cap={spool_bytes} full_503={} retry_after_missing={} \
             rss_at_cap={}MiB rss_max_after={}MiB readyz={} exit={status} replay={:.1}s",
            stats.count(503),
            stats.retry_after_missing,
            rss_at_cap / 1024,
            rss_max / 1024,
            ready.status,
            drain.as_secs_f64()
        ),
    );
    anyhow::ensure!(stats.count(503) > 0, "503 once the spool is full");
    anyhow::ensure!(stats.retry_after_missing == 0, "every 503 has Retry-After");
    anyhow::ensure!(spool_bytes <= cap, "spool stayed under its cap");
    anyhow::ensure!(alive == 200, "still alive");
    anyhow::ensure!(ready.status == 503, "not ready at the cap: {}", ready.body);
    anyhow::ensure!(
        rss_max <= rss_at_cap + 32 * 1024,
        "memory flat while refusing: {rss_at_cap} KiB → {rss_max} KiB"
    );
    anyhow::ensure!(status.success(), "exit status {status}");
    anyhow::ensure!(
        verdict.lost == 0,
        "{} acknowledged events lost",
        verdict.lost
    );
    Ok(())
}
