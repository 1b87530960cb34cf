-- Business question: how does each ad slot perform day by day — is it seen (viewability rate)
-- and clicked (CTR)? One row per (day, slot) of the site.
SELECT
    day,
    slot_id,
    uniqExactMerge(impressions) AS impressions,
    uniqExactMerge(viewable_impressions) AS viewable_impressions,
    uniqExactMerge(clicks) AS clicks,
    uniqExactMerge(clicked_impressions) AS clicked_impressions,
    round(viewable_impressions / nullIf(impressions, 0), 6) AS viewability_rate,
    round(clicks / nullIf(impressions, 0), 6) AS ctr
FROM sightline.ad_ctr_daily
WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
GROUP BY day, slot_id
ORDER BY day, slot_id
