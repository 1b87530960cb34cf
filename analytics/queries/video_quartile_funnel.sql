-- Business question: how do video ads perform per slot, college and cohort — how many video
-- impressions start, reach each quartile and complete (the quartile funnel start → 25 → 50 →
-- 75 → complete), how many are viewable by the MRC video rule, audible and visible on complete
-- (AVOC), and how long they were in view while playing? One row per (slot, college, cohort).
--
-- From ad_videos_unique (schema.sql: one row per impression, quartile bits ORed over its
-- messages: bit 0 start, 1-3 quartiles, 4 complete). The college and cohort parameters filter;
-- '' means all.
SELECT
    slot_id,
    college,
    cohort,
    count() AS impressions,
    countIf(bitTest(quartiles, 0)) AS started,
    countIf(bitTest(quartiles, 1)) AS first_quartile,
    countIf(bitTest(quartiles, 2)) AS midpoint,
    countIf(bitTest(quartiles, 3)) AS third_quartile,
    countIf(bitTest(quartiles, 4)) AS completed,
    countIf(viewable) AS viewable_impressions,
    countIf(avoc) AS avoc_impressions,
    round(viewable_impressions / nullIf(impressions, 0), 6) AS viewable_rate,
    round(completed / nullIf(started, 0), 6) AS completion_rate,
    round(avoc_impressions / nullIf(impressions, 0), 6) AS avoc_rate,
    round(avg(in_view_playing_ms)) AS avg_in_view_playing_ms
FROM sightline.ad_videos_unique
WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
  AND ({college:String} = '' OR college = {college:String}) AND ({cohort:String} = '' OR cohort = {cohort:String})
GROUP BY slot_id, college, cohort
ORDER BY slot_id, college, cohort
