//! Cluster proof 1: a rolling restart of the three collectors behind HAProxy under steady
//! load — one at a time SIGTERM (readiness turns 503, HAProxy takes it out, it drains and
//! exits 0), restart, wait until HAProxy routes to it again. Every acknowledged event is in
//! Kafka; the client sees no error but retryable 503s (with Retry-After); p99 during the
//! restarts against p99 before. Run by `scripts/test-cluster.sh`.

use std::time::Duration;

use sightline_tests::{
    cluster::{
        COLLECTORS, Edge, baseline, ensure_client_saw_only, ensure_nothing_lost,
        ensure_only_searches, report_row, secs, steady_load, topic_ends, topic_growth, window,
    },
    reliability::{Load, run_id, start_offsets, verify},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the Kafka cluster and haproxy: run by scripts/test-cluster.sh"]
async fn rolling_restart_behind_haproxy_loses_nothing() -> anyhow::Result<()> {
    let mut edge = Edge::start(|_| Vec::new()).await?;
    let start = start_offsets()?;
    let ends_before = topic_ends()?;
    let run = run_id("rolling");
    let load = Load::start_shaped(edge.ports.balancer(), &run, steady_load());
    tokio::time::sleep(baseline()).await;
    anyhow::ensure!(load.acked() > 0, "load flows before the restarts");

    let restarts_began = load.elapsed();
    let mut steps = Vec::new();
    for i in 0..COLLECTORS {
        let collector = edge.take_collector(i)?;
        // SIGTERM, and watch HAProxy take it out while it drains.
        let (exit, left_pool) = tokio::join!(
            collector.terminate(Duration::from_secs(60)),
            edge.wait_out_of_pool(i, Duration::from_secs(30)),
        );
        let exit = exit?;
        anyhow::ensure!(
            exit.success(),
            "collector {i} exited with {exit} on SIGTERM"
        );
        let left_pool = left_pool?;
        edge.start_collector(i, &[]).await?;
        let back = edge.wait_in_pool(i, Duration::from_secs(60)).await?;
        steps.push(format!(
            "c{}: out of pool {} after SIGTERM, back {} after restart",
            i + 1,
            secs(left_pool),
            secs(back)
        ));
    }
    let restarts_ended = load.elapsed();
    // A calm period after the last restart, so slowstart has ramped the last one up.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let stats = load.finish().await;
    let verdict = verify(&run, &start, &stats.acked, Duration::from_secs(180))?;
    let written = topic_growth(&ends_before, &topic_ends()?);

    // The second half of the baseline: the first requests also pay for connections and
    // the producers' start-up.
    let before = window(&stats, restarts_began / 2, restarts_began);
    let during = window(&stats, restarts_began, restarts_ended);
    let backend = edge.haproxy.server("BACKEND").await?;
    let details = format!(
        "p99 before {:.0} ms ({} req) vs during restarts {:.0} ms ({} req, {}); {}; \
         haproxy retries={} redispatches={}; records written {written:?}",
        before.p99_ms,
        before.requests,
        during.p99_ms,
        during.requests,
        secs(restarts_ended - restarts_began),
        steps.join("; "),
        backend.retries,
        backend.redispatches,
    );
    report_row(
        "1 rolling restart (3 collectors)",
        &verdict,
        &stats.statuses,
        &details,
    );

    ensure_nothing_lost(&verdict)?;
    // Retryable 503s (with Retry-After) are all a client may see during a rolling restart.
    ensure_client_saw_only(&stats, &[503], &edge)?;
    anyhow::ensure!(during.requests > 0, "load flowed during the restarts");
    ensure_only_searches(&written)?;
    Ok(())
}
