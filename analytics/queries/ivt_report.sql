-- Business question: how much invalid traffic (GIVT and SIVT, by reason) does each ad slot get
-- day by day, and what share of its impressions and clicks is it? An event with several reasons
-- counts under each; rates are over all traffic (valid + invalid) of the slot and day.
WITH totals AS (
    SELECT day, slot_id,
           uniqExactMerge(impressions) AS valid_impressions,
           uniqExactMerge(clicks) AS valid_clicks
    FROM sightline.ad_ctr_daily
    WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
    GROUP BY day, slot_id
), ivt AS (
    SELECT day, slot_id, traffic_class, reason,
           uniqExactMerge(events) AS events,
           uniqExactMerge(impressions) AS impressions,
           uniqExactMerge(clicks) AS clicks
    FROM sightline.ivt_daily
    WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
    GROUP BY day, slot_id, traffic_class, reason
), invalid AS (
    SELECT day, slot_id,
           uniqExactMerge(impressions) AS invalid_impressions,
           uniqExactMerge(clicks) AS invalid_clicks
    FROM sightline.ivt_daily
    WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
    GROUP BY day, slot_id
)
SELECT
    ivt.day AS day,
    ivt.slot_id AS slot_id,
    ivt.traffic_class AS traffic_class,
    ivt.reason AS reason,
    ivt.events AS events,
    ivt.impressions AS impressions,
    ivt.clicks AS clicks,
    round(ivt.impressions / nullIf(invalid.invalid_impressions + totals.valid_impressions, 0), 6) AS impression_rate,
    round(ivt.clicks / nullIf(invalid.invalid_clicks + totals.valid_clicks, 0), 6) AS click_rate
FROM ivt
LEFT JOIN invalid ON invalid.day = ivt.day AND invalid.slot_id = ivt.slot_id
LEFT JOIN totals ON totals.day = ivt.day AND totals.slot_id = ivt.slot_id
ORDER BY day, slot_id, traffic_class, reason
