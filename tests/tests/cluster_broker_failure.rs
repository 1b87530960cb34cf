//! Cluster proof 2: under steady load through HAProxy, the broker that leads the most
//! partitions is SIGKILLed, kept down `SIGHTLINE_BROKER_DOWN_S` (60) s and started again.
//! Every acknowledged event is in Kafka; reports how long produce latency took to recover,
//! how much went through the collectors' spools, and the time until every partition's ISR
//! is back to 3. Run by `scripts/test-cluster.sh`.

use std::time::{Duration, Instant};

use sightline_tests::{
    cluster::recovery,
    cluster::{
        Edge, baseline, ensure_client_saw_only, ensure_nothing_lost, ensure_only_searches,
        kafka_cluster, leaders_per_broker, min_isr, off_runtime, partitions, report_row, secs,
        steady_load, topic_ends, topic_growth, window,
    },
    reliability::{Load, env_secs, run_id, start_offsets, verify},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "kills a broker of the Kafka cluster: run by scripts/test-cluster.sh"]
async fn killing_the_busiest_broker_loses_nothing() -> anyhow::Result<()> {
    let down_for = env_secs("SIGHTLINE_BROKER_DOWN_S", 60);
    let edge = Edge::start(|_| Vec::new()).await?;
    let start = start_offsets()?;
    let ends_before = topic_ends()?;
    let run = run_id("broker");
    let load = Load::start_shaped(edge.ports.balancer(), &run, steady_load());
    tokio::time::sleep(baseline()).await;
    anyhow::ensure!(load.acked() > 0, "load flows before the failure");

    let leaders = leaders_per_broker(&off_runtime(partitions).await?);
    let (victim, led) = leaders
        .iter()
        .max_by_key(|&(node, count)| (*count, -node))
        .map(|(node, count)| (*node, *count))
        .ok_or_else(|| anyhow::anyhow!("no partition leaders"))?;
    let spooled_before = spooled_records(&edge).await?;
    let killed_at = load.elapsed();
    off_runtime(move || kafka_cluster(&["kill", &victim.to_string()])).await?;

    // While it is down, every second: the collectors' spools and the smallest ISR. The
    // produce path has recovered when requests are again acknowledged by Kafka directly:
    // nothing appended to any spool since the last look, and the spools empty.
    let (mut spool_bytes_max, mut spool_records_max, mut isr_low) = (0.0f64, 0.0f64, usize::MAX);
    let mut victim_leads = usize::MAX;
    let mut direct_since: Option<Duration> = None;
    let mut last_appended = spooled_before;
    let killed = Instant::now();
    while killed.elapsed() < down_for {
        let spool_records = edge.metric_sum("sightline_collector_spool_records").await?;
        let appended = spooled_records(&edge).await?;
        spool_bytes_max =
            spool_bytes_max.max(edge.metric_sum("sightline_collector_spool_bytes").await?);
        spool_records_max = spool_records_max.max(spool_records);
        if appended == last_appended && spool_records == 0.0 {
            direct_since.get_or_insert(killed.elapsed());
        } else {
            direct_since = None;
        }
        last_appended = appended;
        if let Ok(states) = off_runtime(partitions).await {
            isr_low = isr_low.min(min_isr(&states));
            victim_leads = leaders_per_broker(&states)
                .get(&victim)
                .copied()
                .unwrap_or(0);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let spooled = spooled_records(&edge).await? - spooled_before;

    // Back: the script returns once the node is registered and every replica is in sync;
    // the ISR is also watched from here, from the moment of the restart.
    let restarted_at = load.elapsed();
    let restart = tokio::spawn(off_runtime(move || {
        kafka_cluster(&["start", &victim.to_string()])
    }));
    let t0 = Instant::now();
    let isr_full_after = loop {
        if off_runtime(partitions)
            .await
            .is_ok_and(|s| min_isr(&s) == 3)
        {
            break t0.elapsed();
        }
        anyhow::ensure!(
            t0.elapsed() < Duration::from_secs(240),
            "ISR not back to 3 within 240 s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    restart.await??;
    let drained = edge.wait_spools_drained(Duration::from_secs(180)).await?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let ended_at = load.elapsed();
    let stats = load.finish().await;
    let verdict = verify(&run, &start, &stats.acked, Duration::from_secs(240))?;
    let written = topic_growth(&ends_before, &topic_ends()?);

    let before = window(&stats, killed_at / 2, killed_at);
    let outage = window(&stats, killed_at, restarted_at);
    let after = window(&stats, restarted_at, ended_at);
    // Recovered: three consecutive seconds whose p99 is back near the baseline's.
    let threshold = (2.0 * before.p99_ms).max(before.p99_ms + 50.0);
    let recovered = recovery(
        &stats,
        killed_at,
        restarted_at,
        threshold,
        Duration::from_secs(1),
        3,
    );
    let details = format!(
        "killed broker {victim} (led {led} of {} partitions); client p99 before {:.0} ms, \
         while down {:.0} ms (p50 {:.0}), after restart {:.0} ms; client latency back under \
         {threshold:.0} ms {} after the kill; produce path direct to Kafka again (spools empty, \
         no appends) {} after the kill; spooled {spooled:.0} records (peak {:.0} records, \
         {:.1} MiB); \
         min ISR while down {isr_low}, killed broker leading {victim_leads}; ISR back to 3 {} \
         after restart; spools drained {} later; records written {written:?}",
        leaders.values().sum::<usize>(),
        before.p99_ms,
        outage.p99_ms,
        outage.p50_ms,
        after.p99_ms,
        recovered.map_or_else(|| "not within the outage".into(), secs),
        direct_since.map_or_else(|| "not within the outage".into(), secs),
        spool_records_max,
        spool_bytes_max / 1_048_576.0,
        secs(isr_full_after),
        secs(drained),
    );
    report_row(
        &format!("2 broker failure ({}s down)", down_for.as_secs()),
        &verdict,
        &stats.statuses,
        &details,
    );

    ensure_nothing_lost(&verdict)?;
    anyhow::ensure!(
        isr_low == 2,
        "the killed broker left the ISRs (min ISR {isr_low})"
    );
    anyhow::ensure!(victim_leads == 0, "leadership moved off the killed broker");
    ensure_only_searches(&written)?;
    ensure_client_saw_only(&stats, &[503], &edge)?;
    Ok(())
}

async fn spooled_records(edge: &Edge) -> anyhow::Result<f64> {
    edge.metric_sum("sightline_collector_spool_appended_records_total")
        .await
}
