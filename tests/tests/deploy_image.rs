//! The container image, proven from its own filesystem: `scripts/test-image.sh` builds the
//! image, exports it with `podman export`, runs the collector from that filesystem under
//! chroot as the image's non-root user with the configuration the Helm chart renders, and
//! points this test at it (`SIGHTLINE_IMAGE_COLLECTOR=127.0.0.1:PORT`).

use std::{collections::BTreeSet, net::SocketAddr, time::Duration};

use anyhow::Context;
use prost::Message;
use sightline_proto::v1::{Search, event::Kind};
use sightline_tests::{
    collector::{ALLOWED_ORIGIN, SITE, batch, get, metric, metrics, post_batch},
    reliability::{run_id, start_offsets, verify},
};

const EVENTS: usize = 25;

fn image_collector() -> anyhow::Result<SocketAddr> {
    std::env::var("SIGHTLINE_IMAGE_COLLECTOR")
        .context("SIGHTLINE_IMAGE_COLLECTOR is not set: run this through scripts/test-image.sh")?
        .parse()
        .context("SIGHTLINE_IMAGE_COLLECTOR must be ADDR:PORT")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the collector running from the exported image: run by scripts/test-image.sh (make test-image)"]
async fn collector_from_the_image_acknowledges_a_batch_kafka_holds() -> anyhow::Result<()> {
    let addr = image_collector()?;

    let ready = get(addr, "/readyz").await?;
    anyhow::ensure!(
        ready.status == 200,
        "/readyz {}: {}",
        ready.status,
        ready.body
    );
    anyhow::ensure!(
        ready.json()["kafka_reachable"] == true,
        "/readyz: {}",
        ready.body
    );

    let start = start_offsets()?;
    let run = run_id("image");
    let sent = batch(
        &format!("{run}-visitor"),
        "",
        (0..EVENTS)
            .map(|i| {
                Kind::Search(Search {
                    query: format!("image proof {i}"),
                    results_count: 1,
                })
            })
            .collect(),
    );
    let acked: BTreeSet<Vec<u8>> = sent.events.iter().map(|e| e.event_id.clone()).collect();
    let reply = post_batch(
        addr,
        &format!("?site={SITE}"),
        &[("origin", ALLOWED_ORIGIN)],
        sent.encode_to_vec(),
    )
    .await?;
    anyhow::ensure!(
        reply.status == 200,
        "batch {}: {}",
        reply.status,
        reply.body
    );
    anyhow::ensure!(
        reply.json()["accepted"] == EVENTS && reply.json()["rejected"] == 0,
        "batch answer {}",
        reply.body
    );

    // Read back through the shared reader: every acknowledged event, once.
    let verdict = verify(&run, &start, &acked, Duration::from_secs(60))?;
    anyhow::ensure!(
        verdict.lost == 0 && verdict.found == EVENTS,
        "Kafka holds {} of the {EVENTS} acknowledged events ({} lost)",
        verdict.found,
        verdict.lost
    );

    let text = metrics(addr).await?;
    let counted = metric(
        &text,
        "sightline_collector_events_accepted_total{kind=\"search\"}",
    );
    anyhow::ensure!(
        counted >= EVENTS as f64,
        "events_accepted_total{{kind=\"search\"}} = {counted}"
    );
    println!(
        "image collector at {addr}: /readyz 200, {EVENTS} events acknowledged and read back from Kafka (duplicates {})",
        verdict.duplicates
    );
    Ok(())
}
