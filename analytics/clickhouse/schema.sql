-- Sightline analytics on ClickHouse: Kafka engine → deduplicated MergeTree tables → pre-aggregated
-- dashboard tables. Read analytics/README.md before pointing this at a cluster.
--
-- Placeholders (envsubst syntax; analytics/sightline_analytics/schema.py fills them with the
-- same defaults, and `envsubst < schema.sql | clickhouse-client --multiquery` works on a server):
--   ${SIGHTLINE_KAFKA_BROKERS}    bootstrap list, e.g. kafka-1:9092,kafka-2:9092
--   ${SIGHTLINE_KAFKA_GROUP}      consumer group of this ClickHouse cluster (default clickhouse-sightline)
--   ${SIGHTLINE_TOPIC_PREFIX}     topic prefix of the collector (default "sightline.")
--   ${SIGHTLINE_KAFKA_CONSUMERS}  consumers per Kafka table and replica (<= partitions / replicas)
--   ${SIGHTLINE_KAFKA_FLUSH_MS}   longest wait before a consumed block is written (default 7500)
--   ${SIGHTLINE_KAFKA_MAX_BLOCK_SIZE}  most rows per consumed block (default 65536, measured in
--                                 analytics/BENCH.md, "Ingest")
--   ${SIGHTLINE_RAW_TTL_DAYS}     retention of event-level rows (default 90 days)
--   ${SIGHTLINE_AGG_TTL_DAYS}     retention of the dashboard aggregates (default 730 days)
--   ${SIGHTLINE_ERROR_TTL_DAYS}   retention of dead letters and undecodable records (default 14 days)
--   ${SIGHTLINE_SEARCH_TTL_DAYS}  retention of search query text in event-level rows (default 30
--                                 days; the rows stay, the column is cleared: docs/privacy.md)
--   ${SIGHTLINE_KAFKA_FORMAT}     record layout of the collector's routing.records (proto/README.md,
--                                 "Kafka record contract"): Protobuf (default) reads layout v2,
--                                 several length-delimited CollectedEvents per record (per_batch,
--                                 per_kind); ProtobufSingle reads layout v1, one event per record
--                                 (per_event)
--
-- Deduplication. Event ids make redelivery idempotent: the browser retries a batch it could not
-- deliver and the collector replays its spool, so Kafka can hold the same event twice.
--   * Event-level tables are ReplacingMergeTree keyed by the event id (ad impressions by the
--     impression id, keeping the FINAL phase over the VIEWABLE one); read them with FINAL or
--     through the *_unique views for exact numbers before background merges catch up.
--   * Aggregates count distinct ids (uniqExact states), so a duplicate record never changes a
--     count, whichever part or partition it lands in.
--
-- Every time is UTC; days are UTC days of the collector's clock-skew-corrected event time.

CREATE DATABASE IF NOT EXISTS sightline;

-- ── 1. The stream of collected events ──────────────────────────────────────────────────────────
-- Every topic that carries sightline.v1.CollectedEvent (layout v2: a request's events
-- length-delimited in one record, one row each; key = user) flows through this Null table: the Kafka table at the end of this file has exactly its columns and
-- one materialized view into it, and every table below hangs off it. So the consumer starts
-- only when all downstream views exist (no view misses the first blocks), and a second source
-- (a replay, a backfill) can be inserted here and reaches every table the same way.
--
-- Column names are protobuf field paths joined by "_" (event.click.page.x → event_click_page_x);
-- ClickHouse matches them to the .proto by name. A column with no matching field is silently
-- read as its default, so analytics/tests/test_schema_compat.py checks every column against the
-- compiled .proto. Only fields used downstream are read. The "events" topic carries every kind
-- (routing.records = per_batch, the default); the kind topics carry one kind each (per_kind,
-- per_event); the "overflow" topic carries events of every kind that the collector diverted
-- from a hot key. All are read, so every layout reaches the same tables.
CREATE TABLE IF NOT EXISTS sightline.events_stream
(
    event_event_id String,
    event_client_ts_ms Int64,
    event_seq UInt64,
    event_page_view_id String,
    kind String,
    site_key String,
    sdk_version String,
    context_url String,
    context_referrer String,
    context_viewport_width UInt32,
    context_viewport_height UInt32,
    context_device_pixel_ratio Float32,
    context_locale String,
    context_timezone_offset_min Int32,
    identity_anonymous_id String,
    identity_user_id String,
    identity_session_id String,
    identity_page_session_id String,
    identity_traits Map(String, String),
    experiments Map(String, String),
    batch_seq UInt64,
    user_key String,
    received_at_ms Int64,
    event_time_ms Int64,
    client_ip String,
    user_agent String,
    collector_id String,
    -- JSON import API (issue 19): EVENT_SOURCE_UNSPECIFIED (browser SDK), _SERVER or _APP.
    source String,
    source_name String,
    library_name String,
    -- The app of an app source's event (Segment context.app; issue 19), empty otherwise.
    app_name String,
    app_version String,
    message_id String,
    -- Edge enrichment and invalid-traffic verdict (collector/README.md, "Invalid traffic").
    device_device_class String,
    device_browser String,
    device_os String,
    geo_country String,
    geo_region String,
    network_asn UInt32,
    network_datacenter Bool,
    traffic_class String,
    ivt_reasons Array(String),
    -- Privacy (issue 18, docs/privacy.md): the mode the collector enforced, the consent sent,
    -- the cookieless visitor id, PII replaced, identity the collector removed.
    privacy_mode String,
    consent_measurement String,
    consent_personalization String,
    consent_storage String,
    consent_source String,
    consent_gpc Bool,
    consent_minor Bool,
    visitor_id String,
    pii_redactions UInt32,
    identity_stripped Bool,

    event_page_view_url String,
    event_page_view_navigation String,
    event_page_view_page_height UInt32,
    event_page_view_name String,
    event_page_view_screen Bool,

    event_click_element_selector String,
    event_click_element_tag String,
    event_click_element_id String,
    event_click_element_href String,
    event_click_element_data Map(String, String),
    event_click_page_x Int32,
    event_click_page_y Int32,
    event_click_viewport_x Int32,
    event_click_viewport_y Int32,
    event_click_button UInt32,

    event_scroll_max_depth_px UInt32,
    event_scroll_max_depth_pct UInt32,
    event_scroll_milestone_pct UInt32,

    event_hover_element_selector String,
    event_hover_dwell_ms UInt32,
    event_hover_ad_slot_id String,

    event_ad_impression_ad_slot_id String,
    event_ad_impression_ad_creative_id String,
    event_ad_impression_ad_campaign_id String,
    event_ad_impression_ad_placement_id String,
    event_ad_impression_ad_width UInt32,
    event_ad_impression_ad_height UInt32,
    event_ad_impression_impression_id String,
    event_ad_impression_phase String,
    event_ad_impression_page_rect_x Int32,
    event_ad_impression_page_rect_y Int32,
    event_ad_impression_page_rect_width UInt32,
    event_ad_impression_page_rect_height UInt32,
    event_ad_impression_max_visible_fraction Float32,
    event_ad_impression_in_view_ms UInt32,
    event_ad_impression_max_continuous_in_view_ms UInt32,
    event_ad_impression_viewable Bool,
    event_ad_impression_rule String,
    event_ad_impression_measurable Bool,
    event_ad_impression_actual_visibility String,
    event_ad_impression_time_to_viewable_ms UInt32,
    -- The ad decision that filled the slot (issue 22): id, policy, experiment arm.
    event_ad_impression_ad_decision_id String,
    event_ad_impression_ad_decision_policy String,
    event_ad_impression_ad_decision_variant String,

    -- Video ads (issue 20): AdVideo, one message per START/quartile/VIEWABLE/COMPLETE/FINAL.
    event_ad_video_ad_slot_id String,
    event_ad_video_ad_creative_id String,
    event_ad_video_ad_campaign_id String,
    event_ad_video_ad_placement_id String,
    event_ad_video_ad_width UInt32,
    event_ad_video_ad_height UInt32,
    event_ad_video_impression_id String,
    event_ad_video_event String,
    event_ad_video_viewable Bool,
    event_ad_video_audible_visible_on_complete Bool,
    event_ad_video_played_ms UInt32,
    event_ad_video_duration_ms UInt32,
    event_ad_video_in_view_playing_ms UInt32,
    event_ad_video_in_view_ms UInt32,
    event_ad_video_max_visible_fraction Float32,
    event_ad_video_player_size String,
    event_ad_video_fullscreen Bool,
    event_ad_video_quartiles UInt32,
    event_ad_video_audible_quartiles UInt32,
    event_ad_video_measurable Bool,

    event_ad_click_ad_slot_id String,
    event_ad_click_ad_creative_id String,
    event_ad_click_ad_campaign_id String,
    event_ad_click_ad_placement_id String,
    event_ad_click_impression_id String,
    event_ad_click_page_x Int32,
    event_ad_click_page_y Int32,
    event_ad_click_page_rect_x Int32,
    event_ad_click_page_rect_y Int32,
    event_ad_click_page_rect_width UInt32,
    event_ad_click_page_rect_height UInt32,
    event_ad_click_since_viewable_ms Int64,
    event_ad_click_href String,
    event_ad_click_ad_decision_id String,
    event_ad_click_ad_decision_policy String,
    event_ad_click_ad_decision_variant String,

    event_search_query String,
    event_search_results_count UInt32,

    event_custom_name String,
    event_custom_properties Nested(key String, string_value String, number_value Float64, int_value Int64, bool_value Bool),

    -- Kafka metadata, filled by kafka_events_consume from the Kafka engine's virtual columns
    -- (no protobuf field has these names, so the Kafka table reads them as defaults).
    kafka_topic LowCardinality(String),
    kafka_partition UInt64,
    kafka_offset UInt64,
    kafka_error String,
    kafka_raw_message String
)
ENGINE = Null;


-- ── 2. Event-level tables (deduplicated by id) ────────────────────────────────────────────────
-- Every accepted event, all kinds. Sort key (site_key, kind, event_id): the dedup key plus the
-- two columns every ad-hoc query filters on; partitions are UTC days so retention drops whole days.
CREATE TABLE IF NOT EXISTS sightline.events
(
    event_id String CODEC(ZSTD(1)),
    kind LowCardinality(String),
    event_time DateTime64(3, 'UTC'),
    received_at DateTime64(3, 'UTC'),
    day Date,
    site_key LowCardinality(String),
    user_key String,
    user_id String,
    anonymous_id String,
    session_id String,
    page_session_id String,
    page_view_id String CODEC(ZSTD(1)),
    seq UInt64,
    url String,
    path String,
    college LowCardinality(String),
    cohort LowCardinality(String),
    traits Map(String, String),
    experiments Map(String, String),
    viewport_width UInt32,
    viewport_height UInt32,
    locale LowCardinality(String),
    -- kind-specific fields, empty/zero for other kinds
    navigation LowCardinality(String),
    element_selector String,
    element_tag LowCardinality(String),
    element_href String,
    page_x Int32,
    page_y Int32,
    scroll_depth_pct UInt32,
    scroll_milestone_pct UInt32,
    hover_dwell_ms UInt32,
    slot_id LowCardinality(String),
    creative_id String,
    campaign_id String,
    impression_id String CODEC(ZSTD(1)),
    -- The ad decision of an ad impression or click (issue 22; empty when the slot was not
    -- filled by the decision service): CTR per policy and the privacy audit read these.
    decision_id String CODEC(ZSTD(1)),
    decision_policy LowCardinality(String),
    decision_variant LowCardinality(String),
    -- Search text is kept shorter than the events (storage limitation, docs/privacy.md): after
    -- SIGHTLINE_SEARCH_TTL_DAYS merges clear it; the search events (and every aggregate)
    -- stay for SIGHTLINE_RAW_TTL_DAYS. The collector scrubbed PII from it before Kafka.
    search_query String TTL day + INTERVAL ${SIGHTLINE_SEARCH_TTL_DAYS} DAY,
    search_results_count UInt32,
    custom_name LowCardinality(String),
    custom_properties Map(String, String),
    sdk_version LowCardinality(String),
    client_ip String,
    user_agent String,
    collector_id LowCardinality(String),
    -- valid, givt, sivt ('' from a collector without classification: counted as valid)
    traffic_class LowCardinality(String),
    ivt_reasons Array(LowCardinality(String)),
    device_class LowCardinality(String),
    browser LowCardinality(String),
    os LowCardinality(String),
    country LowCardinality(String),
    region LowCardinality(String),
    -- persistent, cookieless, restricted ('' from a collector before issue 18: persistent)
    privacy_mode LowCardinality(String),
    consent_source LowCardinality(String),
    consent_gpc Bool,
    consent_minor Bool,
    visitor_id String,
    pii_redactions UInt32,
    identity_stripped Bool
)
ENGINE = ReplacingMergeTree
PARTITION BY day
ORDER BY (site_key, kind, event_id)
TTL day + INTERVAL ${SIGHTLINE_RAW_TTL_DAYS} DAY DELETE;

CREATE MATERIALIZED VIEW IF NOT EXISTS sightline.events_consume TO sightline.events AS
SELECT
    event_event_id AS event_id,
    lower(replaceOne(kind, 'EVENT_KIND_', '')) AS kind,
    fromUnixTimestamp64Milli(event_time_ms, 'UTC') AS event_time,
    fromUnixTimestamp64Milli(received_at_ms, 'UTC') AS received_at,
    toDate(event_time) AS day,
    site_key,
    user_key,
    identity_user_id AS user_id,
    identity_anonymous_id AS anonymous_id,
    identity_session_id AS session_id,
    identity_page_session_id AS page_session_id,
    event_page_view_id AS page_view_id,
    event_seq AS seq,
    context_url AS url,
    path(context_url) AS path,
    identity_traits['college'] AS college,
    identity_traits['cohort'] AS cohort,
    identity_traits AS traits,
    experiments,
    context_viewport_width AS viewport_width,
    context_viewport_height AS viewport_height,
    context_locale AS locale,
    lower(replaceOne(event_page_view_navigation, 'NAVIGATION_', '')) AS navigation,
    if(event_click_element_selector != '', event_click_element_selector, event_hover_element_selector) AS element_selector,
    event_click_element_tag AS element_tag,
    event_click_element_href AS element_href,
    if(event_click_page_x != 0 OR event_click_page_y != 0, event_click_page_x, event_ad_click_page_x) AS page_x,
    if(event_click_page_x != 0 OR event_click_page_y != 0, event_click_page_y, event_ad_click_page_y) AS page_y,
    event_scroll_max_depth_pct AS scroll_depth_pct,
    event_scroll_milestone_pct AS scroll_milestone_pct,
    event_hover_dwell_ms AS hover_dwell_ms,
    multiIf(event_ad_impression_ad_slot_id != '', event_ad_impression_ad_slot_id,
            event_ad_click_ad_slot_id != '', event_ad_click_ad_slot_id, event_hover_ad_slot_id) AS slot_id,
    if(event_ad_impression_ad_creative_id != '', event_ad_impression_ad_creative_id, event_ad_click_ad_creative_id) AS creative_id,
    if(event_ad_impression_ad_campaign_id != '', event_ad_impression_ad_campaign_id, event_ad_click_ad_campaign_id) AS campaign_id,
    if(event_ad_impression_impression_id != '', event_ad_impression_impression_id, event_ad_click_impression_id) AS impression_id,
    if(event_ad_impression_ad_decision_id != '', event_ad_impression_ad_decision_id, event_ad_click_ad_decision_id) AS decision_id,
    if(event_ad_impression_ad_decision_policy != '', event_ad_impression_ad_decision_policy, event_ad_click_ad_decision_policy) AS decision_policy,
    if(event_ad_impression_ad_decision_variant != '', event_ad_impression_ad_decision_variant, event_ad_click_ad_decision_variant) AS decision_variant,
    event_search_query AS search_query,
    event_search_results_count AS search_results_count,
    event_custom_name AS custom_name,
    -- Property values flattened to strings; the oneof case that is set wins.
    mapFromArrays(
        `event_custom_properties.key`,
        arrayMap((s, n, i, b) -> multiIf(s != '', s, i != 0, toString(i), n != 0, toString(n), toString(b)),
                 `event_custom_properties.string_value`, `event_custom_properties.number_value`,
                 `event_custom_properties.int_value`, `event_custom_properties.bool_value`)) AS custom_properties,
    sdk_version,
    client_ip,
    user_agent,
    collector_id,
    lower(replaceOne(replaceOne(traffic_class, 'TRAFFIC_CLASS_', ''), 'UNSPECIFIED', '')) AS traffic_class,
    arrayMap(r -> lower(replaceOne(r, 'IVT_REASON_', '')), ivt_reasons) AS ivt_reasons,
    lower(replaceOne(replaceOne(device_device_class, 'DEVICE_CLASS_', ''), 'UNSPECIFIED', '')) AS device_class,
    device_browser AS browser,
    device_os AS os,
    geo_country AS country,
    geo_region AS region,
    lower(replaceOne(replaceOne(privacy_mode, 'PRIVACY_MODE_', ''), 'UNSPECIFIED', '')) AS privacy_mode,
    lower(replaceOne(replaceOne(consent_source, 'CONSENT_SOURCE_', ''), 'UNSPECIFIED', '')) AS consent_source,
    consent_gpc,
    consent_minor,
    visitor_id,
    pii_redactions,
    identity_stripped
FROM sightline.events_stream
WHERE length(kafka_error) = 0;

-- Exact, duplicate-free view of events (FINAL collapses redelivered ids across parts and days).
CREATE VIEW IF NOT EXISTS sightline.events_unique AS
SELECT * FROM sightline.events FINAL;

-- One row per ad impression. The two phases of an impression share impression_id; the version
-- column keeps the FINAL phase (with the page view's totals) over the VIEWABLE one, and a
-- VIEWABLE phase alone (user left before page hide) still counts as one viewable impression.
CREATE TABLE IF NOT EXISTS sightline.ad_impressions
(
    impression_id String CODEC(ZSTD(1)),
    phase_rank UInt8, -- 1 VIEWABLE, 2 FINAL
    phase LowCardinality(String),
    event_id String CODEC(ZSTD(1)),
    event_time DateTime64(3, 'UTC'),
    day Date,
    site_key LowCardinality(String),
    user_key String,
    session_id String,
    path String,
    college LowCardinality(String),
    cohort LowCardinality(String),
    experiments Map(String, String),
    slot_id LowCardinality(String),
    creative_id LowCardinality(String),
    campaign_id LowCardinality(String),
    placement_id LowCardinality(String),
    page_x Int32,
    page_y Int32,
    width UInt32,
    height UInt32,
    viewport_width UInt32,
    max_visible_fraction Float32,
    in_view_ms UInt32,
    viewable Bool,
    measurable Bool,
    rule LowCardinality(String),
    actual_visibility LowCardinality(String),
    time_to_viewable_ms UInt32,
    -- The ad decision that chose the creative (issue 22): its id in sightline.ad_decisions,
    -- the policy (behavioural, contextual, explore, static) and the ad_policy arm.
    decision_id String CODEC(ZSTD(1)),
    decision_policy LowCardinality(String),
    decision_variant LowCardinality(String)
)
ENGINE = ReplacingMergeTree(phase_rank)
PARTITION BY day
ORDER BY (site_key, impression_id)
TTL day + INTERVAL ${SIGHTLINE_RAW_TTL_DAYS} DAY DELETE;

CREATE MATERIALIZED VIEW IF NOT EXISTS sightline.ad_impressions_consume TO sightline.ad_impressions AS
SELECT
    event_ad_impression_impression_id AS impression_id,
    multiIf(event_ad_impression_phase = 'IMPRESSION_PHASE_FINAL', 2, event_ad_impression_phase = 'IMPRESSION_PHASE_VIEWABLE', 1, 0) AS phase_rank,
    lower(replaceOne(event_ad_impression_phase, 'IMPRESSION_PHASE_', '')) AS phase,
    event_event_id AS event_id,
    fromUnixTimestamp64Milli(event_time_ms, 'UTC') AS event_time,
    toDate(event_time) AS day,
    site_key,
    user_key,
    identity_session_id AS session_id,
    path(context_url) AS path,
    identity_traits['college'] AS college,
    identity_traits['cohort'] AS cohort,
    experiments,
    event_ad_impression_ad_slot_id AS slot_id,
    event_ad_impression_ad_creative_id AS creative_id,
    event_ad_impression_ad_campaign_id AS campaign_id,
    event_ad_impression_ad_placement_id AS placement_id,
    event_ad_impression_page_rect_x AS page_x,
    event_ad_impression_page_rect_y AS page_y,
    event_ad_impression_page_rect_width AS width,
    event_ad_impression_page_rect_height AS height,
    context_viewport_width AS viewport_width,
    event_ad_impression_max_visible_fraction AS max_visible_fraction,
    event_ad_impression_in_view_ms AS in_view_ms,
    event_ad_impression_viewable AS viewable,
    event_ad_impression_measurable AS measurable,
    lower(replaceOne(event_ad_impression_rule, 'VIEWABILITY_RULE_', '')) AS rule,
    lower(replaceOne(event_ad_impression_actual_visibility, 'ACTUAL_VISIBILITY_', '')) AS actual_visibility,
    event_ad_impression_time_to_viewable_ms AS time_to_viewable_ms,
    event_ad_impression_ad_decision_id AS decision_id,
    event_ad_impression_ad_decision_policy AS decision_policy,
    event_ad_impression_ad_decision_variant AS decision_variant
FROM sightline.events_stream
WHERE length(kafka_error) = 0 AND kind = 'EVENT_KIND_AD_IMPRESSION';

-- Exact per-impression view: any phase that saw the ad viewable makes the impression viewable.
CREATE VIEW IF NOT EXISTS sightline.ad_impressions_unique AS
SELECT
    site_key,
    impression_id,
    argMax(phase, phase_rank) AS last_phase,
    min(event_time) AS first_seen,
    min(day) AS day,
    any(user_key) AS user_key,
    any(college) AS college,
    any(cohort) AS cohort,
    any(slot_id) AS slot_id,
    any(page_x) AS page_x,
    any(page_y) AS page_y,
    max(viewable) AS viewable,
    max(in_view_ms) AS in_view_ms
FROM sightline.ad_impressions
GROUP BY site_key, impression_id;

-- One row per video ad message (issue 20). Every message of an impression carries the totals so
-- far, so the latest one (highest seq within the page session) holds them; quartile bits are
-- ORed over all messages (bit 0 start, 1-3 quartiles, 4 complete), so a FINAL lost at page hide
-- still leaves every quartile the impression reached.
CREATE TABLE IF NOT EXISTS sightline.ad_videos
(
    impression_id String CODEC(ZSTD(1)),
    seq UInt64,
    event LowCardinality(String),
    event_id String CODEC(ZSTD(1)),
    event_time DateTime64(3, 'UTC'),
    day Date,
    site_key LowCardinality(String),
    user_key String,
    college LowCardinality(String),
    cohort LowCardinality(String),
    slot_id LowCardinality(String),
    creative_id LowCardinality(String),
    campaign_id LowCardinality(String),
    placement_id LowCardinality(String),
    player_size LowCardinality(String),
    viewable Bool,
    avoc Bool,
    played_ms UInt32,
    duration_ms UInt32,
    in_view_playing_ms UInt32,
    in_view_ms UInt32,
    max_visible_fraction Float32,
    fullscreen Bool,
    quartiles UInt32,
    audible_quartiles UInt32,
    measurable Bool
)
ENGINE = ReplacingMergeTree
PARTITION BY day
ORDER BY (site_key, impression_id, event_id)
TTL day + INTERVAL ${SIGHTLINE_RAW_TTL_DAYS} DAY DELETE;

CREATE MATERIALIZED VIEW IF NOT EXISTS sightline.ad_videos_consume TO sightline.ad_videos AS
SELECT
    event_ad_video_impression_id AS impression_id,
    event_seq AS seq,
    lower(replaceOne(event_ad_video_event, 'VIDEO_EVENT_', '')) AS event,
    event_event_id AS event_id,
    fromUnixTimestamp64Milli(event_time_ms, 'UTC') AS event_time,
    toDate(event_time) AS day,
    site_key,
    user_key,
    identity_traits['college'] AS college,
    identity_traits['cohort'] AS cohort,
    event_ad_video_ad_slot_id AS slot_id,
    event_ad_video_ad_creative_id AS creative_id,
    event_ad_video_ad_campaign_id AS campaign_id,
    event_ad_video_ad_placement_id AS placement_id,
    lower(replaceOne(event_ad_video_player_size, 'PLAYER_SIZE_', '')) AS player_size,
    event_ad_video_viewable AS viewable,
    event_ad_video_audible_visible_on_complete AS avoc,
    event_ad_video_played_ms AS played_ms,
    event_ad_video_duration_ms AS duration_ms,
    event_ad_video_in_view_playing_ms AS in_view_playing_ms,
    event_ad_video_in_view_ms AS in_view_ms,
    event_ad_video_max_visible_fraction AS max_visible_fraction,
    event_ad_video_fullscreen AS fullscreen,
    event_ad_video_quartiles AS quartiles,
    event_ad_video_audible_quartiles AS audible_quartiles,
    event_ad_video_measurable AS measurable
FROM sightline.events_stream
WHERE length(kafka_error) = 0 AND kind = 'EVENT_KIND_AD_VIDEO';

-- One row per video impression: quartiles reached (ORed), viewable/AVOC if any message said so,
-- the totals of its latest message.
CREATE VIEW IF NOT EXISTS sightline.ad_videos_unique AS
SELECT
    site_key,
    impression_id,
    min(day) AS day,
    any(user_key) AS user_key,
    any(college) AS college,
    any(cohort) AS cohort,
    any(slot_id) AS slot_id,
    any(campaign_id) AS campaign_id,
    any(player_size) AS player_size,
    groupBitOr(quartiles) AS quartiles,
    groupBitOr(audible_quartiles) AS audible_quartiles,
    max(viewable) AS viewable,
    max(avoc) AS avoc,
    max(fullscreen) AS fullscreen,
    argMax(in_view_playing_ms, seq) AS in_view_playing_ms,
    argMax(in_view_ms, seq) AS in_view_ms,
    argMax(played_ms, seq) AS played_ms,
    max(max_visible_fraction) AS max_visible_fraction
FROM sightline.ad_videos FINAL
GROUP BY site_key, impression_id;

-- Collector dead letters and records ClickHouse could not decode.
CREATE TABLE IF NOT EXISTS sightline.rejected_events
(
    received_at DateTime64(3, 'UTC'),
    day Date,
    site_key LowCardinality(String),
    reason LowCardinality(String),
    detail String,
    event_id String,
    sdk_version LowCardinality(String),
    collector_id LowCardinality(String),
    -- Set when ClickHouse could not decode the dead letter itself (the raw bytes are kept).
    decode_error String,
    raw_message String CODEC(ZSTD(3))
)
ENGINE = MergeTree
PARTITION BY day
ORDER BY (site_key, reason, received_at)
TTL day + INTERVAL ${SIGHTLINE_ERROR_TTL_DAYS} DAY DELETE;


CREATE TABLE IF NOT EXISTS sightline.kafka_errors
(
    seen_at DateTime('UTC') DEFAULT now('UTC'),
    topic LowCardinality(String),
    partition UInt64,
    offset UInt64,
    error String,
    raw_message String CODEC(ZSTD(3))
)
ENGINE = MergeTree
PARTITION BY toDate(seen_at)
ORDER BY (topic, partition, offset)
TTL toDate(seen_at) + INTERVAL ${SIGHTLINE_ERROR_TTL_DAYS} DAY DELETE;

CREATE MATERIALIZED VIEW IF NOT EXISTS sightline.kafka_errors_consume TO sightline.kafka_errors AS
SELECT kafka_topic AS topic, kafka_partition AS partition, kafka_offset AS offset, kafka_error AS error, kafka_raw_message AS raw_message
FROM sightline.events_stream
WHERE length(kafka_error) > 0;


-- Ingestion bookkeeping: records read per topic, partition and minute and the highest offset,
-- including undecodable ones. Compare max_offset with the topic's end offsets to see the lag.
CREATE TABLE IF NOT EXISTS sightline.kafka_ingest
(
    minute DateTime('UTC'),
    topic LowCardinality(String),
    partition UInt64,
    records SimpleAggregateFunction(sum, UInt64),
    errors SimpleAggregateFunction(sum, UInt64),
    max_offset SimpleAggregateFunction(max, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (topic, partition, minute)
TTL toDate(minute) + INTERVAL ${SIGHTLINE_ERROR_TTL_DAYS} DAY DELETE;

CREATE MATERIALIZED VIEW IF NOT EXISTS sightline.kafka_ingest_consume TO sightline.kafka_ingest AS
SELECT
    toStartOfMinute(now('UTC')) AS minute,
    kafka_topic AS topic,
    kafka_partition AS partition,
    count() AS records,
    countIf(length(kafka_error) > 0) AS errors,
    max(kafka_offset) AS max_offset
FROM sightline.events_stream
GROUP BY minute, topic, partition;

-- One row per ad decision of sightline-decide (issue 22; its topic `ad_decisions`, one
-- sightline.v1.AdDecision per record, proto/sightline/v1/decision.proto). Impressions and clicks
-- carry decision_id (ad_impressions.decision_id, events.decision_id), so what was decided joins
-- to what was seen and clicked. user_key is the decision's visitor_key: the profile key (user id,
-- else anonymous id) for profiled visitors only, empty for everyone else (cookieless, minors,
-- GPC, no personalization consent): the privacy audit reads it. Erasure deletes by it.
CREATE TABLE IF NOT EXISTS sightline.ad_decisions
(
    decision_id String CODEC(ZSTD(1)),
    decided_at DateTime64(3, 'UTC'),
    day Date,
    site_key LowCardinality(String),
    slot_id LowCardinality(String),
    placement_id LowCardinality(String),
    user_key String,
    -- as the request stated them: persistent, cookieless, restricted ('' = none stated)
    privacy_mode LowCardinality(String),
    consent_personalization LowCardinality(String),
    consent_gpc Bool,
    consent_minor Bool,
    -- behavioural, contextual, explore, static
    policy LowCardinality(String),
    experiment LowCardinality(String),
    variant LowCardinality(String),
    page_subject LowCardinality(String),
    profile_events UInt64,
    -- ranked, best first
    creative_ids Array(String),
    creative_subjects Array(LowCardinality(String)),
    decider_id LowCardinality(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY day
ORDER BY (site_key, decision_id)
TTL day + INTERVAL ${SIGHTLINE_RAW_TTL_DAYS} DAY DELETE;

-- ── 3. Dashboard aggregates ───────────────────────────────────────────────────────────────────
-- CTR, heatmap and A/B aggregates count VALID traffic only: events the collector classified as
-- general or sophisticated invalid traffic (GIVT/SIVT) are left out, as the MRC's IVT guidelines
-- require of reported ad metrics; they are counted in ivt_daily instead.
-- Distinct-id states: exact and idempotent under redelivery (a duplicate adds an id already in
-- the set). Partitioned by month: a dashboard reads months of days, and fewer parts merge faster.

-- Impressions / viewable impressions / clicks per site, college, cohort, slot, campaign and day.
CREATE TABLE IF NOT EXISTS sightline.ad_ctr_daily
(
    day Date,
    site_key LowCardinality(String),
    college LowCardinality(String),
    cohort LowCardinality(String),
    slot_id LowCardinality(String),
    campaign_id LowCardinality(String), -- the dashboard's campaign filter
    impressions AggregateFunction(uniqExact, String),
    viewable_impressions AggregateFunction(uniqExact, String),
    clicks AggregateFunction(uniqExact, String),
    clicked_impressions AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (site_key, day, college, cohort, slot_id, campaign_id)
TTL day + INTERVAL ${SIGHTLINE_AGG_TTL_DAYS} DAY DELETE;

CREATE MATERIALIZED VIEW IF NOT EXISTS sightline.ad_ctr_daily_consume TO sightline.ad_ctr_daily AS
SELECT
    toDate(fromUnixTimestamp64Milli(event_time_ms, 'UTC')) AS day,
    site_key,
    identity_traits['college'] AS college,
    identity_traits['cohort'] AS cohort,
    if(kind = 'EVENT_KIND_AD_IMPRESSION', event_ad_impression_ad_slot_id, event_ad_click_ad_slot_id) AS slot_id,
    if(kind = 'EVENT_KIND_AD_IMPRESSION', event_ad_impression_ad_campaign_id, event_ad_click_ad_campaign_id) AS campaign_id,
    uniqExactStateIf(event_ad_impression_impression_id, kind = 'EVENT_KIND_AD_IMPRESSION') AS impressions,
    uniqExactStateIf(event_ad_impression_impression_id, kind = 'EVENT_KIND_AD_IMPRESSION' AND event_ad_impression_viewable) AS viewable_impressions,
    uniqExactStateIf(event_event_id, kind = 'EVENT_KIND_AD_CLICK') AS clicks,
    uniqExactStateIf(event_ad_click_impression_id, kind = 'EVENT_KIND_AD_CLICK') AS clicked_impressions
FROM sightline.events_stream
WHERE length(kafka_error) = 0 AND kind IN ('EVENT_KIND_AD_IMPRESSION', 'EVENT_KIND_AD_CLICK')
  AND traffic_class NOT IN ('TRAFFIC_CLASS_GIVT', 'TRAFFIC_CLASS_SIVT') -- valid traffic only (MRC IVT)
GROUP BY day, site_key, college, cohort, slot_id, campaign_id;

-- Ad-position heatmap: the page is cut into CELL × CELL px squares (CELL = 100, the constant in
-- intDiv below and in queries/ad_heatmap.sql); an ad lands in the cell of its rectangle's center.
CREATE TABLE IF NOT EXISTS sightline.ad_heatmap_daily
(
    day Date,
    site_key LowCardinality(String),
    cell_x UInt16,
    cell_y UInt16,
    impressions AggregateFunction(uniqExact, String),
    viewable_impressions AggregateFunction(uniqExact, String),
    clicks AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (site_key, day, cell_y, cell_x)
TTL day + INTERVAL ${SIGHTLINE_AGG_TTL_DAYS} DAY DELETE;

CREATE MATERIALIZED VIEW IF NOT EXISTS sightline.ad_heatmap_daily_consume TO sightline.ad_heatmap_daily AS
WITH kind = 'EVENT_KIND_AD_IMPRESSION' AS is_impression
SELECT
    toDate(fromUnixTimestamp64Milli(event_time_ms, 'UTC')) AS day,
    site_key,
    toUInt16(intDiv(greatest(0, if(is_impression, event_ad_impression_page_rect_x + intDiv(event_ad_impression_page_rect_width, 2),
                                                  event_ad_click_page_rect_x + intDiv(event_ad_click_page_rect_width, 2))), 100)) AS cell_x,
    toUInt16(intDiv(greatest(0, if(is_impression, event_ad_impression_page_rect_y + intDiv(event_ad_impression_page_rect_height, 2),
                                                  event_ad_click_page_rect_y + intDiv(event_ad_click_page_rect_height, 2))), 100)) AS cell_y,
    uniqExactStateIf(event_ad_impression_impression_id, is_impression) AS impressions,
    uniqExactStateIf(event_ad_impression_impression_id, is_impression AND event_ad_impression_viewable) AS viewable_impressions,
    uniqExactStateIf(event_event_id, NOT is_impression) AS clicks
FROM sightline.events_stream
WHERE length(kafka_error) = 0 AND kind IN ('EVENT_KIND_AD_IMPRESSION', 'EVENT_KIND_AD_CLICK')
  AND traffic_class NOT IN ('TRAFFIC_CLASS_GIVT', 'TRAFFIC_CLASS_SIVT') -- valid traffic only (MRC IVT)
GROUP BY day, site_key, cell_x, cell_y;

-- CTR per experiment variant, with the counts a two-proportion test needs. An event carries every
-- experiment in force, so it counts once under each (experiment, variant) pair.
CREATE TABLE IF NOT EXISTS sightline.ab_ctr_daily
(
    day Date,
    site_key LowCardinality(String),
    experiment LowCardinality(String),
    variant LowCardinality(String),
    users AggregateFunction(uniqExact, String),
    impressions AggregateFunction(uniqExact, String),
    viewable_impressions AggregateFunction(uniqExact, String),
    clicks AggregateFunction(uniqExact, String),
    clicked_impressions AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (site_key, experiment, variant, day)
TTL day + INTERVAL ${SIGHTLINE_AGG_TTL_DAYS} DAY DELETE;

CREATE MATERIALIZED VIEW IF NOT EXISTS sightline.ab_ctr_daily_consume TO sightline.ab_ctr_daily AS
SELECT
    toDate(fromUnixTimestamp64Milli(event_time_ms, 'UTC')) AS day,
    site_key,
    experiment,
    variant,
    uniqExactState(user_key) AS users,
    uniqExactStateIf(event_ad_impression_impression_id, kind = 'EVENT_KIND_AD_IMPRESSION') AS impressions,
    uniqExactStateIf(event_ad_impression_impression_id, kind = 'EVENT_KIND_AD_IMPRESSION' AND event_ad_impression_viewable) AS viewable_impressions,
    uniqExactStateIf(event_event_id, kind = 'EVENT_KIND_AD_CLICK') AS clicks,
    uniqExactStateIf(event_ad_click_impression_id, kind = 'EVENT_KIND_AD_CLICK') AS clicked_impressions
FROM sightline.events_stream
ARRAY JOIN mapKeys(experiments) AS experiment, mapValues(experiments) AS variant
WHERE length(kafka_error) = 0 AND kind IN ('EVENT_KIND_AD_IMPRESSION', 'EVENT_KIND_AD_CLICK')
  AND traffic_class NOT IN ('TRAFFIC_CLASS_GIVT', 'TRAFFIC_CLASS_SIVT') -- valid traffic only (MRC IVT)
GROUP BY day, site_key, experiment, variant;

-- Invalid traffic per site, slot, class, reason and day: the IVT report (queries/ivt_report.sql).
-- An event with several reasons counts once under each; `events`/`impressions`/`clicks` are
-- distinct ids, so the rate is ivt_daily over all traffic of the same key.
CREATE TABLE IF NOT EXISTS sightline.ivt_daily
(
    day Date,
    site_key LowCardinality(String),
    slot_id LowCardinality(String),
    traffic_class LowCardinality(String),
    reason LowCardinality(String),
    events AggregateFunction(uniqExact, String),
    impressions AggregateFunction(uniqExact, String),
    clicks AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (site_key, day, slot_id, traffic_class, reason)
TTL day + INTERVAL ${SIGHTLINE_AGG_TTL_DAYS} DAY DELETE;

CREATE MATERIALIZED VIEW IF NOT EXISTS sightline.ivt_daily_consume TO sightline.ivt_daily AS
SELECT
    toDate(fromUnixTimestamp64Milli(event_time_ms, 'UTC')) AS day,
    site_key,
    multiIf(kind = 'EVENT_KIND_AD_IMPRESSION', event_ad_impression_ad_slot_id,
            kind = 'EVENT_KIND_AD_CLICK', event_ad_click_ad_slot_id, '') AS slot_id,
    lower(replaceOne(traffic_class, 'TRAFFIC_CLASS_', '')) AS traffic_class,
    lower(replaceOne(reason, 'IVT_REASON_', '')) AS reason,
    uniqExactState(event_event_id) AS events,
    uniqExactStateIf(event_ad_impression_impression_id, kind = 'EVENT_KIND_AD_IMPRESSION') AS impressions,
    uniqExactStateIf(event_event_id, kind = 'EVENT_KIND_AD_CLICK') AS clicks
FROM sightline.events_stream
ARRAY JOIN ivt_reasons AS reason
-- `traffic_class` here is the lower-cased alias above (ClickHouse resolves aliases first).
WHERE length(kafka_error) = 0 AND traffic_class IN ('givt', 'sivt')
GROUP BY day, site_key, slot_id, traffic_class, reason;

-- Distinct events, users and sessions per day and kind while the day is open (issue 21): the
-- open-day path of queries/events_by_kind_daily.sql, which counted distinct ids in the raw
-- `events` table (tens of seconds at 50 M events: reading and hashing three string columns of
-- every row). Here each id is one 16-byte hash in the uniqExact state of its dimension, hashed
-- once at insert; a query merges the (background-merged) states. Same day, kind, user_key and
-- session_id expressions as events_consume, so the numbers equal the raw table's exactly.
-- finalize_day.sql folds a closed day into events_kind_rollup from here. Like every aggregate,
-- erasure does not touch it (docs/privacy.md).
CREATE TABLE IF NOT EXISTS sightline.events_kind_daily
(
    day Date,
    site_key LowCardinality(String),
    kind LowCardinality(String),
    dimension Enum8('event' = 1, 'user' = 2, 'session' = 3),
    ids AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (site_key, day, kind, dimension)
TTL day + INTERVAL ${SIGHTLINE_AGG_TTL_DAYS} DAY DELETE;

CREATE MATERIALIZED VIEW IF NOT EXISTS sightline.events_kind_daily_consume TO sightline.events_kind_daily AS
SELECT
    toDate(fromUnixTimestamp64Milli(event_time_ms, 'UTC')) AS day,
    site_key,
    lower(replaceOne(kind, 'EVENT_KIND_', '')) AS kind,
    toInt8(dimension_number) AS dimension, -- the Enum8's value
    uniqExactState(id) AS ids
FROM sightline.events_stream
ARRAY JOIN [event_event_id, user_key, identity_session_id] AS id, [1, 2, 3] AS dimension_number
WHERE length(kafka_error) = 0
GROUP BY day, site_key, kind, dimension;

-- Search → course view → ad click: the three step events of each session, for windowFunnel.
-- A course view is a page view whose path starts with /course/ or /courses/ (edit the regex
-- here and in nothing else to change what counts as a course page).
CREATE TABLE IF NOT EXISTS sightline.journey_steps
(
    day Date,
    site_key LowCardinality(String),
    session_id String,
    user_key String,
    event_time DateTime64(3, 'UTC'),
    step Enum8('search' = 1, 'course_view' = 2, 'ad_click' = 3),
    event_id String CODEC(ZSTD(1))
)
ENGINE = ReplacingMergeTree
PARTITION BY day
ORDER BY (site_key, session_id, event_id)
TTL day + INTERVAL ${SIGHTLINE_RAW_TTL_DAYS} DAY DELETE;

CREATE MATERIALIZED VIEW IF NOT EXISTS sightline.journey_steps_consume TO sightline.journey_steps AS
SELECT
    toDate(fromUnixTimestamp64Milli(event_time_ms, 'UTC')) AS day,
    site_key,
    identity_session_id AS session_id,
    user_key,
    fromUnixTimestamp64Milli(event_time_ms, 'UTC') AS event_time,
    CAST(multiIf(kind = 'EVENT_KIND_SEARCH', 1, kind = 'EVENT_KIND_PAGE_VIEW', 2, 3) AS Enum8('search' = 1, 'course_view' = 2, 'ad_click' = 3)) AS step,
    event_event_id AS event_id
FROM sightline.events_stream
WHERE length(kafka_error) = 0
  -- A journey follows one person: none for cookieless or restricted visitors (docs/privacy.md).
  AND privacy_mode NOT IN ('PRIVACY_MODE_COOKIELESS', 'PRIVACY_MODE_RESTRICTED')
  AND (kind IN ('EVENT_KIND_SEARCH', 'EVENT_KIND_AD_CLICK')
       OR (kind = 'EVENT_KIND_PAGE_VIEW' AND match(path(if(event_page_view_url != '', event_page_view_url, context_url)), '^/courses?/')));

-- Enrolments and payments the backend reports through the JSON import API (issue 19):
-- track('Course Enrolled', {course_id, revenue, …}) from a server source, keyed by user id,
-- so they join the browser's events on user_key. Deduplicated by event id (the messageId).
CREATE TABLE IF NOT EXISTS sightline.enrolments
(
    day Date,
    site_key LowCardinality(String),
    user_key String,
    event_time DateTime64(3, 'UTC'),
    event_id String CODEC(ZSTD(1)),
    course_id String,
    revenue Float64,
    source LowCardinality(String),
    source_name LowCardinality(String),
    app_name LowCardinality(String), -- in-app purchases: which app and version sold
    app_version LowCardinality(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY day
ORDER BY (site_key, user_key, event_id)
TTL day + INTERVAL ${SIGHTLINE_RAW_TTL_DAYS} DAY DELETE;

CREATE MATERIALIZED VIEW IF NOT EXISTS sightline.enrolments_consume TO sightline.enrolments AS
SELECT
    toDate(fromUnixTimestamp64Milli(event_time_ms, 'UTC')) AS day,
    site_key,
    user_key,
    fromUnixTimestamp64Milli(event_time_ms, 'UTC') AS event_time,
    event_event_id AS event_id,
    arrayElement(`event_custom_properties.string_value`, indexOf(`event_custom_properties.key`, 'course_id')) AS course_id,
    -- revenue is a number (number_value) or an integer (int_value), whichever the sender wrote.
    arrayElement(`event_custom_properties.number_value`, indexOf(`event_custom_properties.key`, 'revenue'))
      + toFloat64(arrayElement(`event_custom_properties.int_value`, indexOf(`event_custom_properties.key`, 'revenue'))) AS revenue,
    source,
    source_name,
    app_name,
    app_version
FROM sightline.events_stream
WHERE length(kafka_error) = 0 AND kind = 'EVENT_KIND_CUSTOM' AND event_custom_name = 'Course Enrolled'
  -- Per person (joined to the browser's events by user): never a cookieless or restricted one.
  AND privacy_mode NOT IN ('PRIVACY_MODE_COOKIELESS', 'PRIVACY_MODE_RESTRICTED');

-- ── 4. Kafka sources (last: consumption starts once every view above exists) ──────────────────
CREATE TABLE IF NOT EXISTS sightline.kafka_events AS sightline.events_stream
ENGINE = Kafka
SETTINGS
    kafka_broker_list = '${SIGHTLINE_KAFKA_BROKERS}',
    kafka_topic_list = '${SIGHTLINE_TOPIC_PREFIX}events,${SIGHTLINE_TOPIC_PREFIX}page_views,${SIGHTLINE_TOPIC_PREFIX}clicks,${SIGHTLINE_TOPIC_PREFIX}scrolls,${SIGHTLINE_TOPIC_PREFIX}hovers,${SIGHTLINE_TOPIC_PREFIX}ad_impressions,${SIGHTLINE_TOPIC_PREFIX}ad_clicks,${SIGHTLINE_TOPIC_PREFIX}searches,${SIGHTLINE_TOPIC_PREFIX}custom,${SIGHTLINE_TOPIC_PREFIX}ad_videos,${SIGHTLINE_TOPIC_PREFIX}overflow',
    kafka_group_name = '${SIGHTLINE_KAFKA_GROUP}',
    -- Protobuf = length-delimited messages, several per Kafka record (layout v2: a record is
    -- a request's events; each becomes one row). ProtobufSingle for a per_event collector.
    kafka_format = '${SIGHTLINE_KAFKA_FORMAT}',
    kafka_schema = 'sightline/v1/collected.proto:CollectedEvent',
    kafka_num_consumers = ${SIGHTLINE_KAFKA_CONSUMERS},
    kafka_flush_interval_ms = ${SIGHTLINE_KAFKA_FLUSH_MS},
    kafka_max_block_size = ${SIGHTLINE_KAFKA_MAX_BLOCK_SIZE},
    -- An undecodable record becomes a row with _error set (kept in kafka_errors) instead of
    -- stopping the consumer.
    kafka_handle_error_mode = 'stream';

CREATE MATERIALIZED VIEW IF NOT EXISTS sightline.kafka_events_consume TO sightline.events_stream AS
SELECT * REPLACE (_topic AS kafka_topic, _partition AS kafka_partition, _offset AS kafka_offset,
                  _error AS kafka_error, _raw_message AS kafka_raw_message)
FROM sightline.kafka_events;

-- The dead-letter topic: events the collector rejected, with the reason.
CREATE TABLE IF NOT EXISTS sightline.kafka_rejected
(
    reason String,
    detail String,
    event_event_id String,
    site_key String,
    sdk_version String,
    identity_anonymous_id String,
    identity_user_id String,
    received_at_ms Int64,
    client_ip String,
    user_agent String,
    collector_id String
)
ENGINE = Kafka
SETTINGS
    kafka_broker_list = '${SIGHTLINE_KAFKA_BROKERS}',
    kafka_topic_list = '${SIGHTLINE_TOPIC_PREFIX}rejected',
    kafka_group_name = '${SIGHTLINE_KAFKA_GROUP}',
    kafka_format = 'ProtobufSingle',
    kafka_schema = 'sightline/v1/collected.proto:RejectedEvent',
    kafka_num_consumers = 1,
    kafka_flush_interval_ms = ${SIGHTLINE_KAFKA_FLUSH_MS},
    kafka_handle_error_mode = 'stream';

CREATE MATERIALIZED VIEW IF NOT EXISTS sightline.rejected_consume TO sightline.rejected_events AS
SELECT
    fromUnixTimestamp64Milli(received_at_ms, 'UTC') AS received_at,
    toDate(received_at) AS day,
    site_key, reason, detail, event_event_id AS event_id, sdk_version, collector_id,
    _error AS decode_error, if(length(_error) > 0, _raw_message, '') AS raw_message
FROM sightline.kafka_rejected;

-- The decision log (sightline-decide): one AdDecision per record.
CREATE TABLE IF NOT EXISTS sightline.kafka_ad_decisions
(
    decision_id String,
    decided_at_ms Int64,
    site_key String,
    slot_id String,
    placement_id String,
    visitor_key String,
    privacy_mode String,
    consent_personalization String,
    consent_gpc Bool,
    consent_minor Bool,
    policy String,
    experiment String,
    variant String,
    page_subject String,
    profile_events UInt64,
    creatives Nested(creative_id String, subject String),
    decider_id String
)
ENGINE = Kafka
SETTINGS
    kafka_broker_list = '${SIGHTLINE_KAFKA_BROKERS}',
    kafka_topic_list = '${SIGHTLINE_TOPIC_PREFIX}ad_decisions',
    kafka_group_name = '${SIGHTLINE_KAFKA_GROUP}',
    kafka_format = 'ProtobufSingle',
    kafka_schema = 'sightline/v1/decision.proto:AdDecision',
    kafka_num_consumers = 1,
    kafka_flush_interval_ms = ${SIGHTLINE_KAFKA_FLUSH_MS},
    kafka_handle_error_mode = 'stream';

-- An undecodable decision record is dropped here (the decision service is the only producer
-- and writes what it compiles against); kafka_errors keeps the CollectedEvent topics' ones.
CREATE MATERIALIZED VIEW IF NOT EXISTS sightline.ad_decisions_consume TO sightline.ad_decisions AS
SELECT
    decision_id,
    fromUnixTimestamp64Milli(decided_at_ms, 'UTC') AS decided_at,
    toDate(decided_at) AS day,
    site_key,
    slot_id,
    placement_id,
    visitor_key AS user_key,
    lower(replaceOne(replaceOne(privacy_mode, 'PRIVACY_MODE_', ''), 'UNSPECIFIED', '')) AS privacy_mode,
    lower(replaceOne(replaceOne(consent_personalization, 'CONSENT_STATE_', ''), 'UNSPECIFIED', '')) AS consent_personalization,
    consent_gpc,
    consent_minor,
    policy,
    experiment,
    variant,
    page_subject,
    profile_events,
    `creatives.creative_id` AS creative_ids,
    `creatives.subject` AS creative_subjects,
    decider_id
FROM sightline.kafka_ad_decisions
WHERE length(_error) = 0;

-- ── 5. Closed-day rollups (what the dashboards read for finished days) ──────────────────────────
-- The aggregates above keep uniqExact states: exact and idempotent under redelivery, but a
-- query merges one 16-byte hash per distinct id, so its cost grows with the events in range
-- (analytics/BENCH.md). Once a day is closed (past the late-arrival grace; Kafka replay and the
-- collector's spool deliver late), sightline_analytics/rollup.py finalizes it: the exact counts
-- of the states, per the same groups, are written here as plain numbers and the day is marked
-- in rollup_days. A query sums the rollups of marked days and merges the states of the others,
-- so a dashboard reads a few thousand rows per month whatever the volume. Finalizing again
-- (a late replay) writes a newer version of every row; ReplacingMergeTree keeps the newest, so
-- read these tables with FINAL. Counts are per day: an impression whose two phases straddle
-- midnight UTC counts on both days (as it already does in the per-day slot table).
CREATE TABLE IF NOT EXISTS sightline.rollup_days
(
    day Date,
    finalized Bool,        -- false re-opens a day (its states are read again)
    version UInt64         -- finalization time, ms: the newest mark wins
)
ENGINE = ReplacingMergeTree(version)
ORDER BY day;

CREATE TABLE IF NOT EXISTS sightline.ad_ctr_rollup
(
    day Date,
    site_key LowCardinality(String),
    college LowCardinality(String),
    cohort LowCardinality(String),
    slot_id LowCardinality(String),
    campaign_id LowCardinality(String),
    impressions UInt64,
    viewable_impressions UInt64,
    clicks UInt64,
    clicked_impressions UInt64,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (site_key, day, college, cohort, slot_id, campaign_id)
TTL day + INTERVAL ${SIGHTLINE_AGG_TTL_DAYS} DAY DELETE;

CREATE TABLE IF NOT EXISTS sightline.ad_heatmap_rollup
(
    day Date,
    site_key LowCardinality(String),
    cell_x UInt16,
    cell_y UInt16,
    impressions UInt64,
    viewable_impressions UInt64,
    clicks UInt64,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (site_key, day, cell_y, cell_x)
TTL day + INTERVAL ${SIGHTLINE_AGG_TTL_DAYS} DAY DELETE;

-- users stays a uniqExact state: the A/B readout counts a student once over the whole range,
-- and students return on many days (distinct students are far fewer than impressions).
CREATE TABLE IF NOT EXISTS sightline.ab_ctr_rollup
(
    day Date,
    site_key LowCardinality(String),
    experiment LowCardinality(String),
    variant LowCardinality(String),
    users AggregateFunction(uniqExact, String),
    impressions UInt64,
    viewable_impressions UInt64,
    clicks UInt64,
    clicked_impressions UInt64,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (site_key, experiment, variant, day)
TTL day + INTERVAL ${SIGHTLINE_AGG_TTL_DAYS} DAY DELETE;

-- Distinct events, users and sessions per day and kind (the pipeline health view).
CREATE TABLE IF NOT EXISTS sightline.events_kind_rollup
(
    day Date,
    site_key LowCardinality(String),
    kind LowCardinality(String),
    events UInt64,
    users UInt64,
    sessions UInt64,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (site_key, day, kind)
TTL day + INTERVAL ${SIGHTLINE_AGG_TTL_DAYS} DAY DELETE;
