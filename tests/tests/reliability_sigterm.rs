//! Proof 3: SIGTERM under load: the collector drains and exits 0, and every event it
//! acknowledged is in Kafka. Run by `scripts/test-reliability.sh` (needs the binary).

use std::time::Duration;

use sightline_tests::{
    kafka::bootstrap,
    reliability::{CollectorProcess, Load, report, run_id, start_offsets, verify},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the collector binary: run by scripts/test-reliability.sh"]
async fn sigterm_under_load_drains_and_exits_zero() -> anyhow::Result<()> {
    let spool = tempfile::tempdir()?;
    let collector = CollectorProcess::start(spool.path(), &bootstrap(), &[]).await?;
    let start = start_offsets()?;
    let run = run_id("sigterm");
    let load = Load::start(collector.addr, &run, 8, 20, Duration::ZERO);
    // Under load: 20 000 events acknowledged (about 5 s on 2 cores), then SIGTERM.
    let before = load.wait_acked(0, 20_000, Duration::from_secs(120)).await?;
    let status = collector.terminate(Duration::from_secs(60)).await?;
    let stats = load.finish().await;
    let verdict = verify(&run, &start, &stats.acked, Duration::from_secs(60))?;
    let spool_left = std::fs::read_dir(spool.path())?
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "seg"))
        .count();
    report(
        "proof3_sigterm_under_load",
        Some(&verdict),
        &format!(
            "exit={status} acked_before_signal={before} spool_segments_left={spool_left} statuses={:?}",
            stats.statuses
        ),
    );
    anyhow::ensure!(status.success(), "exit status {status}");
    anyhow::ensure!(
        verdict.lost == 0,
        "{} acknowledged events lost",
        verdict.lost
    );
    anyhow::ensure!(spool_left == 0, "nothing left behind with Kafka up");
    Ok(())
}
