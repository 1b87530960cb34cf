//! Proof 2: the collector process is SIGKILLed in the middle of load while Kafka is
//! down; after a restart (Kafka back) every acknowledged event reaches Kafka. Run by
//! `scripts/test-reliability.sh` (it stops the broker).

use std::time::Duration;

use sightline_tests::{
    kafka::bootstrap,
    reliability::{
        CollectorProcess, Load, kafka_ctl, metric_of, report, run_id, start_offsets, verify,
    },
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "stops the broker: run by scripts/test-reliability.sh"]
async fn sigkill_while_kafka_is_down_loses_no_acknowledged_event() -> anyhow::Result<()> {
    let spool = tempfile::tempdir()?;
    let start = start_offsets()?;
    kafka_ctl("stop")?;
    let result = async {
        let mut collector = CollectorProcess::start(spool.path(), &bootstrap(), &[]).await?;
        let run = run_id("crash");
        // Unpaced: the kill lands while appends are being written and fsynced.
        let load = Load::start(collector.addr, &run, 8, 20, Duration::ZERO);
        // Kill once a good part of a spool's worth is acknowledged (fsynced): 100 000 events.
        load.wait_acked(0, 100_000, Duration::from_secs(180))
            .await?;
        collector.kill();
        let stats = load.finish().await;
        Ok::<_, anyhow::Error>((run, stats))
    }
    .await;
    kafka_ctl("start")?;
    let (run, stats) = result?;

    let collector = CollectorProcess::start(spool.path(), &bootstrap(), &[]).await?;
    let drain = collector
        .wait_spool_drained(Duration::from_secs(180))
        .await?;
    let verdict = verify(&run, &start, &stats.acked, Duration::from_secs(120))?;
    let m = collector.metrics().await?;
    let details = format!(
        "replayed_after_restart={} corrupt_skipped={} drain={:.1}s statuses={:?}",
        metric_of(&m, "sightline_collector_spool_replayed_records_total"),
        metric_of(&m, "sightline_collector_spool_corrupt_records_total"),
        drain.as_secs_f64(),
        stats.statuses,
    );
    report("proof2_sigkill_kafka_down", Some(&verdict), &details);
    anyhow::ensure!(
        verdict.lost == 0,
        "{} acknowledged events lost",
        verdict.lost
    );
    Ok(())
}
