//! Every bad input from the issue: its status, error code and metric, and nothing
//! wrong in Kafka (no record of it on any topic, or exactly the dead-letter record).

use std::{collections::BTreeMap, time::Duration};

use prost::Message as _;
use rdkafka::Message;
use sightline_proto::v1::{Click, RejectedEvent, Search, event::Kind};
use sightline_tests::{
    collector::{
        ALLOWED_ORIGIN, TestCollector, batch, gzip, metric, metrics, now_ms, post_batch,
        test_config,
    },
    kafka::{end_offsets, events_topic, read_events_from, read_from, topic},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

fn all_topics() -> Vec<String> {
    sightline_proto::all_topic_suffixes().map(topic).collect()
}

struct Case {
    name: &'static str,
    query: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_batches_get_status_code_metric_and_leave_nothing_in_kafka() -> anyhow::Result<()> {
    let before: BTreeMap<String, Vec<(i32, i64)>> = all_topics()
        .into_iter()
        .map(|t| end_offsets(&t).map(|o| (t, o)))
        .collect::<Result<_, _>>()?;
    let collector = TestCollector::start(test_config()).await?;
    let run = rand::random::<u32>();
    let anon = format!("bad-{run}");
    let good = || batch(&anon, "", vec![Kind::Click(Click::default())]);

    let mut truncated = good().encode_to_vec();
    truncated.truncate(truncated.len() - 3);
    // Random bytes whose first byte has wire type 7, which protobuf does not define, so
    // they can never decode by chance.
    let mut random: Vec<u8> = (0..256).map(|_| rand::random::<u8>()).collect();
    random[0] = 0x0f;
    // A valid batch followed by sdk_version (field 2) holding invalid UTF-8.
    let mut bad_utf8 = good().encode_to_vec();
    bad_utf8.extend_from_slice(&[0x12, 0x02, 0xc3, 0x28]);
    let mut unknown_site = good();
    unknown_site.site_key = "no-such-site".into();
    let mut too_many = good();
    too_many.events = (0..501).map(|_| good().events[0].clone()).collect();
    for (i, e) in too_many.events.iter_mut().enumerate() {
        e.seq = i as u64;
    }
    let over_limit = vec![0x0a; 600 * 1024];
    let bomb = gzip(&vec![0u8; 8 * 1024 * 1024]);
    assert!(bomb.len() < 512 * 1024, "the bomb passes the body limit");

    let cases = vec![
        Case {
            name: "empty body",
            query: "",
            headers: vec![],
            body: vec![],
            status: 400,
            code: "empty_body",
        },
        Case {
            name: "random bytes",
            query: "",
            headers: vec![],
            body: random,
            status: 400,
            code: "invalid_protobuf",
        },
        Case {
            name: "truncated protobuf",
            query: "",
            headers: vec![],
            body: truncated,
            status: 400,
            code: "invalid_protobuf",
        },
        Case {
            name: "invalid UTF-8",
            query: "",
            headers: vec![],
            body: bad_utf8,
            status: 400,
            code: "invalid_protobuf",
        },
        Case {
            name: "body over limit",
            query: "",
            headers: vec![],
            body: over_limit,
            status: 413,
            code: "body_too_large",
        },
        Case {
            name: "gzip bomb",
            query: "",
            headers: vec![("content-encoding", "gzip")],
            body: bomb,
            status: 413,
            code: "decompressed_too_large",
        },
        Case {
            name: "corrupt gzip",
            query: "",
            headers: vec![("content-encoding", "gzip")],
            body: good().encode_to_vec(),
            status: 400,
            code: "invalid_gzip",
        },
        Case {
            name: "unsupported encoding",
            query: "",
            headers: vec![("content-encoding", "br")],
            body: good().encode_to_vec(),
            status: 415,
            code: "unsupported_encoding",
        },
        Case {
            name: "unsupported media type",
            query: "",
            // (application/json is the JSON import API's: without a write key, 401.)
            headers: vec![("content-type", "application/xml")],
            body: good().encode_to_vec(),
            status: 415,
            code: "unsupported_media_type",
        },
        Case {
            name: "JSON without a write key",
            query: "",
            headers: vec![("content-type", "application/json")],
            body: good().encode_to_vec(),
            status: 401,
            code: "unauthorized",
        },
        Case {
            name: "unknown site in batch",
            query: "",
            headers: vec![],
            body: unknown_site.encode_to_vec(),
            status: 401,
            code: "unknown_site",
        },
        Case {
            name: "unknown site in query",
            query: "?site=no-such-site",
            headers: vec![],
            body: good().encode_to_vec(),
            status: 401,
            code: "unknown_site",
        },
        Case {
            name: "disallowed origin",
            query: "",
            headers: vec![("origin", "https://evil.example")],
            body: good().encode_to_vec(),
            status: 403,
            code: "origin_not_allowed",
        },
        Case {
            name: "too many events",
            query: "",
            headers: vec![],
            body: too_many.encode_to_vec(),
            status: 413,
            code: "too_many_events",
        },
        Case {
            name: "site mismatch",
            query: "?site=demo",
            headers: vec![],
            body: unknown_site.encode_to_vec(),
            status: 400,
            code: "site_key_mismatch",
        },
    ];

    for case in cases {
        let m0 = metrics(collector.addr).await?;
        let reply = post_batch(collector.addr, case.query, &case.headers, case.body).await?;
        assert_eq!(reply.status, case.status, "{}: {}", case.name, reply.body);
        assert_eq!(reply.json()["error"], case.code, "{}", case.name);
        assert!(
            reply.json()["detail"]
                .as_str()
                .is_some_and(|d| !d.is_empty())
        );
        if case.code == "origin_not_allowed" {
            assert_eq!(
                reply.header("access-control-allow-origin"),
                None,
                "never reflect a foreign origin"
            );
        }
        let m1 = metrics(collector.addr).await?;
        let refused = format!(
            "sightline_collector_requests_refused_total{{code=\"{}\"}}",
            case.code
        );
        assert_eq!(
            metric(&m1, &refused) - metric(&m0, &refused),
            1.0,
            "{}: {refused}",
            case.name
        );
        let by_status = format!(
            "sightline_collector_http_requests_total{{route=\"/v1/batch\",status=\"{}\"}}",
            case.status
        );
        assert_eq!(
            metric(&m1, &by_status) - metric(&m0, &by_status),
            1.0,
            "{}",
            case.name
        );
    }
    let m = metrics(collector.addr).await?;
    assert_eq!(
        metric(
            &m,
            "sightline_collector_events_accepted_total{kind=\"click\"}"
        ),
        0.0
    );
    collector.stop().await?;

    // Nothing of these requests reached any topic.
    for (t, start) in &before {
        // Read exactly up to the current end, so the check cannot pass by reading too little.
        let end = end_offsets(t)?;
        let new_records: i64 = end.iter().zip(start).map(|((_, e), (_, s))| e - s).sum();
        let records = read_from(t, start, new_records as usize, Duration::from_secs(10))?;
        assert_eq!(
            records.len() as i64,
            new_records,
            "read all new records of {t}"
        );
        let ours = records
            .iter()
            .filter(|m| {
                m.key().is_some_and(|k| k == anon.as_bytes())
                    || m.payload().is_some_and(|p| contains(p, anon.as_bytes()))
            })
            .count();
        assert_eq!(ours, 0, "{t} has records of refused batches");
    }
    Ok(())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_events_go_to_the_dead_letter_topic_and_the_rest_proceeds() -> anyhow::Result<()> {
    let rejected_topic = topic("rejected");
    let searches = events_topic();
    let rejected_start = end_offsets(&rejected_topic)?;
    let searches_start = end_offsets(&searches)?;
    let collector = TestCollector::start(test_config()).await?;
    let run = rand::random::<u32>();
    let anon = format!("dlq-{run}");
    let search = |q: &str| {
        Kind::Search(Search {
            query: q.into(),
            results_count: 1,
        })
    };

    // One good event, one from far in the future, one without id.
    let mut mixed = batch(
        &anon,
        "",
        vec![search("good"), search("future"), search("no id")],
    );
    mixed.events[1].client_ts_ms = now_ms() + 24 * 3600 * 1000;
    mixed.events[2].event_id.clear();
    let reply = post_batch(
        collector.addr,
        "?site=demo",
        &[("origin", ALLOWED_ORIGIN)],
        mixed.encode_to_vec(),
    )
    .await?;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["accepted"], 1);
    assert_eq!(reply.json()["rejected"], 2);

    // A 20 000-character URL in the page context: every event of the batch is rejected.
    let mut long_url = batch(&anon, "", vec![search("a"), search("b")]);
    if let Some(ctx) = long_url.context.as_mut() {
        ctx.url = format!("http://localhost:3000/{}", "x".repeat(20_000));
    }
    let reply = post_batch(collector.addr, "", &[], long_url.encode_to_vec()).await?;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["rejected"], 2);

    let m = metrics(collector.addr).await?;
    assert_eq!(
        metric(
            &m,
            "sightline_collector_events_rejected_total{reason=\"timestamp_out_of_window\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &m,
            "sightline_collector_events_rejected_total{reason=\"missing_event_id\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &m,
            "sightline_collector_events_rejected_total{reason=\"string_too_long\"}"
        ),
        2.0
    );
    assert_eq!(
        metric(
            &m,
            "sightline_collector_events_accepted_total{kind=\"search\"}"
        ),
        1.0
    );
    collector.stop().await?;

    let dead = read_from(
        &rejected_topic,
        &rejected_start,
        usize::MAX,
        Duration::from_secs(2),
    )?;
    let mut reasons: Vec<(String, String)> = dead
        .iter()
        .filter(|m| m.key() == Some(anon.as_bytes()))
        .map(|m| RejectedEvent::decode(m.payload().unwrap_or_default()))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .map(|r| {
            assert_eq!(r.client_ip, "127.0.0.0");
            let query = match r.event.and_then(|e| e.kind) {
                Some(Kind::Search(s)) => s.query,
                _ => String::new(),
            };
            (r.reason, query)
        })
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        vec![
            ("missing_event_id".to_owned(), "no id".to_owned()),
            ("string_too_long".to_owned(), "a".to_owned()),
            ("string_too_long".to_owned(), "b".to_owned()),
            ("timestamp_out_of_window".to_owned(), "future".to_owned()),
        ]
    );
    let good = read_events_from(
        &searches,
        &searches_start,
        usize::MAX,
        Duration::from_secs(1),
    )?;
    let ours: Vec<_> = good
        .iter()
        .filter(|e| e.key() == Some(anon.as_bytes()))
        .collect();
    assert_eq!(
        ours.len(),
        1,
        "only the valid event reaches the events topic"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_sending_its_body_too_slowly_gets_408() -> anyhow::Result<()> {
    let mut config = test_config();
    config.server.body_read_timeout_ms = 300;
    let collector = TestCollector::start(config).await?;
    let mut stream = TcpStream::connect(collector.addr).await?;
    stream
        .write_all(
            b"POST /v1/batch?site=demo HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/x-protobuf\r\ncontent-length: 100\r\n\r\n0123456789",
        )
        .await?;
    let mut reply = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut reply)).await;
    let text = String::from_utf8_lossy(&reply);
    assert!(
        read.is_ok(),
        "the collector answers instead of waiting forever"
    );
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("request_timeout"), "{text}");
    let m = metrics(collector.addr).await?;
    assert_eq!(
        metric(
            &m,
            "sightline_collector_requests_refused_total{code=\"request_timeout\"}"
        ),
        1.0
    );
    collector.stop().await
}

/// A client that sends a whole too-large body receives its 413 and keeps its connection:
/// the collector reads and throws away the rest (`server.max_discarded_body_bytes`)
/// instead of closing on unread input, whose reset could destroy the answer in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_too_large_body_is_answered_413_on_a_connection_that_stays_usable() -> anyhow::Result<()>
{
    use http_body_util::{BodyExt, Full};
    let collector = TestCollector::start(test_config()).await?;
    let over_limit = vec![0x0a; 2 * 1024 * 1024];
    let exchange = async {
        let stream = TcpStream::connect(collector.addr).await?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        let too_large = http::Request::post("/v1/batch?site=demo")
            .header("host", "localhost")
            .header("content-type", "application/x-protobuf")
            .body(Full::new(bytes::Bytes::from(over_limit)))?;
        let refused = sender.send_request(too_large).await?;
        let status = refused.status().as_u16();
        let body = refused.into_body().collect().await?.to_bytes();
        sender.ready().await?;
        let health = http::Request::get("/healthz")
            .header("host", "localhost")
            .body(Full::new(bytes::Bytes::new()))?;
        let next = sender.send_request(health).await?.status().as_u16();
        anyhow::Ok((status, String::from_utf8_lossy(&body).into_owned(), next))
    };
    let (status, body, next) = tokio::time::timeout(Duration::from_secs(10), exchange).await??;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("body_too_large"), "{body}");
    assert_eq!(next, 200, "the same connection answers the next request");
    collector.stop().await
}
