-- Finalizes one closed UTC day {day:Date} into the rollups of schema.sql section 5 (run by
-- sightline_analytics/rollup.py, or by hand with clickhouse-client --param_day=… --param_version=…).
-- Every statement is idempotent: a newer {version:UInt64} replaces the day's rows.
-- The day is marked last, so no query reads a half-written day's rollups.
INSERT INTO sightline.ad_ctr_rollup
SELECT day, site_key, college, cohort, slot_id, campaign_id,
       uniqExactMerge(impressions), uniqExactMerge(viewable_impressions),
       uniqExactMerge(clicks), uniqExactMerge(clicked_impressions), {version:UInt64}
FROM sightline.ad_ctr_daily
WHERE day = {day:Date}
GROUP BY day, site_key, college, cohort, slot_id, campaign_id;

INSERT INTO sightline.ad_heatmap_rollup
SELECT day, site_key, cell_x, cell_y,
       uniqExactMerge(impressions), uniqExactMerge(viewable_impressions), uniqExactMerge(clicks), {version:UInt64}
FROM sightline.ad_heatmap_daily
WHERE day = {day:Date}
GROUP BY day, site_key, cell_x, cell_y;

INSERT INTO sightline.ab_ctr_rollup
SELECT day, site_key, experiment, variant, uniqExactMergeState(users),
       uniqExactMerge(impressions), uniqExactMerge(viewable_impressions),
       uniqExactMerge(clicks), uniqExactMerge(clicked_impressions), {version:UInt64}
FROM sightline.ab_ctr_daily
WHERE day = {day:Date}
GROUP BY day, site_key, experiment, variant;

-- From the open-day states (schema.sql section 3, events_kind_daily), as
-- queries/events_by_kind_daily.sql counts open days.
INSERT INTO sightline.events_kind_rollup
SELECT day, site_key, kind, uniqExactMergeIf(ids, dimension = 'event'), uniqExactMergeIf(ids, dimension = 'user'),
       uniqExactMergeIf(ids, dimension = 'session'), {version:UInt64}
FROM sightline.events_kind_daily
WHERE day = {day:Date}
GROUP BY day, site_key, kind;

INSERT INTO sightline.rollup_days SELECT {day:Date}, true, {version:UInt64};
