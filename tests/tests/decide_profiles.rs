//! sightline-decide against the real broker: events produced to the collector's events
//! topic build a profile (freshness measured: produced → visible in `profile_events`),
//! the profiled visitor gets a behavioural decision, and the privacy rules hold on both
//! sides — a minor's and a cookieless visitor's events are never profiled, and their
//! decisions are contextual — down to the decision log; an erasure request drops the
//! profile.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use prost::Message as _;
use rdkafka::{
    ClientConfig,
    message::{Header, OwnedHeaders},
    producer::{FutureProducer, FutureRecord},
};
use serde_json::{Value, json};
use sightline_decide::{DecideService, config::Config, time::SystemTime};
use sightline_proto::{
    record::{LAYOUT_DELIMITED_V2, LAYOUT_HEADER, push_delimited},
    v1::{
        AdDecision, CollectedEvent, ConsentPurposes, ConsentState, Event, EventKind, PageView,
        PrivacyMode, Search, event::Kind,
    },
};
use sightline_tests::{
    collector::{client, get, now_ms, request},
    kafka::{bootstrap, end_offsets, read_from, topic},
};

fn event(user: &str, mode: PrivacyMode, minor: bool, kind: Kind) -> CollectedEvent {
    CollectedEvent {
        kind: match kind {
            Kind::Search(_) => EventKind::Search,
            _ => EventKind::PageView,
        } as i32,
        site_key: "demo".into(),
        user_key: user.into(),
        privacy_mode: mode as i32,
        consent: Some(ConsentPurposes {
            personalization: ConsentState::Granted as i32,
            minor,
            ..Default::default()
        }),
        received_at_ms: now_ms(),
        event_time_ms: now_ms(),
        event: Some(Event {
            kind: Some(kind),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn chemistry(user: &str, mode: PrivacyMode, minor: bool) -> Vec<CollectedEvent> {
    vec![
        event(
            user,
            mode,
            minor,
            Kind::Search(Search {
                query: "organic chemistry notes".into(),
                results_count: 1,
            }),
        ),
        event(
            user,
            mode,
            minor,
            Kind::PageView(PageView {
                url: "http://localhost:5173/courses/organic-chem".into(),
                ..Default::default()
            }),
        ),
    ]
}

async fn produce(producer: &FutureProducer, events: &[CollectedEvent]) -> anyhow::Result<()> {
    let mut value = Vec::new();
    for e in events {
        push_delimited(e, &mut value);
    }
    let headers = OwnedHeaders::new().insert(Header {
        key: LAYOUT_HEADER,
        value: Some(LAYOUT_DELIMITED_V2),
    });
    producer
        .send(
            FutureRecord::to(&topic("events"))
                .key(&events[0].user_key)
                .payload(&value)
                .headers(headers),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(e, _)| e)?;
    Ok(())
}

async fn decide(addr: std::net::SocketAddr, body: Value) -> anyhow::Result<Value> {
    let reply = request(
        &client(),
        http::Method::POST,
        &format!("http://{addr}/v1/decide"),
        &[("content-type", "application/json")],
        body.to_string().into_bytes(),
    )
    .await?;
    anyhow::ensure!(
        reply.status == 200,
        "decide answered {}: {}",
        reply.status,
        reply.body
    );
    Ok(reply.json())
}

fn ask(user: &str, privacy: Value) -> Value {
    json!({"site":"demo","slot":"search-top-banner","placement":"top_banner",
           "page":{"url":"http://localhost:5173/search?q=x"},"user_id":user,"privacy":privacy})
}

#[tokio::test]
async fn events_build_profiles_within_seconds_and_privacy_holds_on_both_sides() -> anyhow::Result<()>
{
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".parse()?;
    config.kafka.brokers = bootstrap();
    config.kafka.topics = vec!["events".into()];
    config.kafka.metadata_refresh_ms = 500;
    config.experiment.personalized_share = 1.0;
    config.experiment.epsilon = 0.0;
    config.catalogue.path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../decide/catalogue.toml");
    let service = DecideService::bind(config, Arc::new(SystemTime)).await?;
    let addr = service.local_addr();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(service.serve(async {
        let _ = stop_rx.await;
    }));

    let deadline = Instant::now() + Duration::from_secs(60);
    while get(addr, "/readyz").await?.status != 200 {
        anyhow::ensure!(Instant::now() < deadline, "not ready within 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let run = rand::random::<u32>();
    let (adult, minor, cookieless) = (
        format!("adult-{run}"),
        format!("minor-{run}"),
        format!("cookieless-{run}"),
    );
    let log_start = end_offsets(&topic("ad_decisions"))?;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("acks", "all")
        .create()?;
    produce(&producer, &chemistry(&minor, PrivacyMode::Persistent, true)).await?;
    produce(
        &producer,
        &chemistry(&cookieless, PrivacyMode::Cookieless, false),
    )
    .await?;
    produce(
        &producer,
        &chemistry(&adult, PrivacyMode::Persistent, false),
    )
    .await?;
    let produced = Instant::now();

    // Freshness: the adult's two events show in profile_events.
    let persistent = json!({"mode":"persistent","personalization":"granted"});
    let answer = loop {
        let answer = decide(addr, ask(&adult, persistent.clone())).await?;
        if answer["profile_events"].as_u64() >= Some(2) {
            break answer;
        }
        anyhow::ensure!(
            produced.elapsed() < Duration::from_secs(20),
            "profile not updated within 20 s: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let freshness = produced.elapsed();
    println!(
        "freshness: produced → profile_events 2 in {} ms",
        freshness.as_millis()
    );
    assert!(freshness < Duration::from_secs(5), "{freshness:?}");
    assert_eq!(answer["policy"], "behavioural", "{answer}");
    assert_eq!(answer["variant"], "personalized");
    assert_eq!(answer["creatives"][0]["subject"], "Chemistry", "{answer}");

    // Write side: the minor's and the cookieless visitor's events built nothing, even when
    // a request later claims an adult persistent visitor under the same key (their events
    // were produced before the adult's, so they have been read by now).
    for key in [&minor, &cookieless] {
        let claim = decide(addr, ask(key, persistent.clone())).await?;
        assert_eq!(claim["profile_events"], 0, "{key}: {claim}");
        assert_ne!(claim["policy"], "behavioural", "{key}: {claim}");
    }
    // Read side: the adult's own profile is not read when the request is a minor's,
    // cookieless or GPC: contextual, no variant.
    let mut contextual_ids = Vec::new();
    for privacy in [
        json!({"mode":"persistent","minor":true}),
        json!({"mode":"cookieless"}),
        json!({"mode":"persistent","gpc":true}),
    ] {
        let a = decide(addr, ask(&adult, privacy.clone())).await?;
        assert_eq!(a["policy"], "contextual", "{privacy}: {a}");
        assert_eq!(a["variant"], "", "{privacy}");
        assert_eq!(a["profile_events"], 0, "{privacy}");
        contextual_ids.push(a["decision_id"].as_str().unwrap_or_default().to_owned());
    }

    // The decision log has them, without a visitor key.
    let records = read_from(
        &topic("ad_decisions"),
        &log_start,
        usize::MAX,
        Duration::from_secs(5),
    )?;
    let decisions: Vec<AdDecision> = records
        .iter()
        .filter_map(|m| rdkafka::Message::payload(m).and_then(|p| AdDecision::decode(p).ok()))
        .collect();
    for id in &contextual_ids {
        let d = decisions
            .iter()
            .find(|d| &d.decision_id == id)
            .ok_or_else(|| anyhow::anyhow!("decision {id} not in the log"))?;
        assert_eq!(d.policy, "contextual");
        assert!(d.visitor_key.is_empty(), "{d:?}");
    }
    let behavioural = decisions
        .iter()
        .find(|d| d.decision_id == answer["decision_id"].as_str().unwrap_or_default())
        .ok_or_else(|| anyhow::anyhow!("behavioural decision not in the log"))?;
    assert_eq!(behavioural.visitor_key, adult);
    assert_eq!(behavioural.variant, "personalized");

    // Erasure (`sightline-admin erase`'s record on the compacted topic): the profile goes.
    let request = json!({"site":"demo","id_kind":"user_id","id":adult,
                         "requested_at_ms":now_ms(),"reason":"test"})
    .to_string();
    producer
        .send(
            FutureRecord::to(&topic("erasures"))
                .key(&format!("demo\tuser_id\t{adult}"))
                .payload(&request),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(e, _)| e)?;
    let erased_at = Instant::now();
    loop {
        let a = decide(addr, ask(&adult, persistent.clone())).await?;
        if a["profile_events"] == 0 {
            assert_ne!(a["policy"], "behavioural", "{a}");
            break;
        }
        anyhow::ensure!(
            erased_at.elapsed() < Duration::from_secs(20),
            "profile not erased within 20 s: {a}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let _ = stop_tx.send(());
    server.await?;
    Ok(())
}
