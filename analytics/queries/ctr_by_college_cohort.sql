-- Business question: which colleges and cohorts click our ads, and how often per impression?
-- One row per (college, cohort) of the site over the date range: impressions (one per
-- impression_id, whatever its phases), viewable impressions, clicks, and CTR = clicks /
-- impressions (and per viewable impression). Feeds the "CTR per cohort" bar chart.
SELECT
    college,
    cohort,
    uniqExactMerge(impressions) AS impressions,
    uniqExactMerge(viewable_impressions) AS viewable_impressions,
    uniqExactMerge(clicks) AS clicks,
    round(clicks / nullIf(impressions, 0), 6) AS ctr,
    round(clicks / nullIf(viewable_impressions, 0), 6) AS viewable_ctr
FROM sightline.ad_ctr_daily
WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
GROUP BY college, cohort
ORDER BY college, cohort
