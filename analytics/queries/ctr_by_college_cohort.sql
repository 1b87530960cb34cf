-- Business question: which colleges and cohorts click our ads, and how often per impression?
-- One row per (college, cohort) of the site over the date range: impressions (one per
-- impression_id, whatever its phases), viewable impressions, clicks, and CTR = clicks /
-- impressions (and per viewable impression). Feeds the "CTR per cohort" bar chart.
--
-- Finalized days come from ad_ctr_rollup (plain counts), open days from the uniqExact states
-- of ad_ctr_daily; both count per day (schema.sql section 5). The college, cohort and
-- campaign parameters filter (the dashboard's filters); '' means all.
SELECT
    college,
    cohort,
    sum(imp) AS impressions,
    sum(vis) AS viewable_impressions,
    sum(clk) AS clicks,
    round(clicks / nullIf(impressions, 0), 6) AS ctr,
    round(clicks / nullIf(viewable_impressions, 0), 6) AS viewable_ctr
FROM
(
    SELECT college, cohort, impressions AS imp, viewable_impressions AS vis, clicks AS clk
    FROM sightline.ad_ctr_rollup FINAL
    WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
      AND ({college:String} = '' OR college = {college:String}) AND ({cohort:String} = '' OR cohort = {cohort:String})
      AND ({campaign:String} = '' OR campaign_id = {campaign:String})
      AND day IN (SELECT day FROM sightline.rollup_days FINAL WHERE finalized)
    UNION ALL
    SELECT college, cohort, uniqExactMerge(impressions), uniqExactMerge(viewable_impressions), uniqExactMerge(clicks)
    FROM sightline.ad_ctr_daily
    WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
      AND ({college:String} = '' OR college = {college:String}) AND ({cohort:String} = '' OR cohort = {cohort:String})
      AND ({campaign:String} = '' OR campaign_id = {campaign:String})
      AND day NOT IN (SELECT day FROM sightline.rollup_days FINAL WHERE finalized)
    GROUP BY day, college, cohort
)
GROUP BY college, cohort
ORDER BY college, cohort
