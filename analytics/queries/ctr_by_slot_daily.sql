-- Business question: how does each ad slot perform day by day — is it seen (viewability rate)
-- and clicked (CTR)? One row per (day, slot) of the site.
--
-- Finalized days come from ad_ctr_rollup (plain counts), open days from the uniqExact states
-- of ad_ctr_daily (schema.sql section 5). The college, cohort and campaign parameters filter
-- (the dashboard's filters); '' means all.
SELECT
    day,
    slot_id,
    sum(imp) AS impressions,
    sum(vis) AS viewable_impressions,
    sum(clk) AS clicks,
    sum(cim) AS clicked_impressions,
    round(viewable_impressions / nullIf(impressions, 0), 6) AS viewability_rate,
    round(clicks / nullIf(impressions, 0), 6) AS ctr
FROM
(
    SELECT day, slot_id, impressions AS imp, viewable_impressions AS vis, clicks AS clk, clicked_impressions AS cim
    FROM sightline.ad_ctr_rollup FINAL
    WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
      AND ({college:String} = '' OR college = {college:String}) AND ({cohort:String} = '' OR cohort = {cohort:String})
      AND ({campaign:String} = '' OR campaign_id = {campaign:String})
      AND day IN (SELECT day FROM sightline.rollup_days FINAL WHERE finalized)
    UNION ALL
    SELECT day, slot_id, uniqExactMerge(impressions), uniqExactMerge(viewable_impressions), uniqExactMerge(clicks),
           uniqExactMerge(clicked_impressions)
    FROM sightline.ad_ctr_daily
    WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
      AND ({college:String} = '' OR college = {college:String}) AND ({cohort:String} = '' OR cohort = {cohort:String})
      AND ({campaign:String} = '' OR campaign_id = {campaign:String})
      AND day NOT IN (SELECT day FROM sightline.rollup_days FINAL WHERE finalized)
    GROUP BY day, slot_id
)
GROUP BY day, slot_id
ORDER BY day, slot_id
