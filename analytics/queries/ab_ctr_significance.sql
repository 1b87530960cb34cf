-- Business question: does an experiment's variant change the ad click-through rate, and is the
-- difference more than chance? Per (experiment, variant): users, impressions, clicked
-- impressions (an impression clicked at least once: a yes/no outcome per impression) and clicks.
-- Each non-control variant is compared with the experiment's "control" by a two-proportion
-- z-test (pooled) on clicked impressions / impressions: z, two-sided p-value, 95 % CI of the
-- difference (variant − control).
--
-- Finalized days come from ab_ctr_rollup (counts per day, users as states so a student counts
-- once over the range), open days from ab_ctr_daily's states (schema.sql section 5).
WITH per_variant AS
(
    SELECT
        experiment,
        variant,
        uniqExactMerge(u) AS users,
        sum(imp) AS impressions,
        sum(cim) AS clicked_impressions,
        sum(clk) AS clicks
    FROM
    (
        SELECT experiment, variant, users AS u, impressions AS imp, clicked_impressions AS cim, clicks AS clk
        FROM sightline.ab_ctr_rollup FINAL
        WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
          AND day IN (SELECT day FROM sightline.rollup_days FINAL WHERE finalized)
        UNION ALL
        SELECT experiment, variant, uniqExactMergeState(users), uniqExactMerge(impressions),
               uniqExactMerge(clicked_impressions), uniqExactMerge(clicks)
        FROM sightline.ab_ctr_daily
        WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
          AND day NOT IN (SELECT day FROM sightline.rollup_days FINAL WHERE finalized)
        GROUP BY day, experiment, variant
    )
    GROUP BY experiment, variant
)
SELECT
    v.experiment AS experiment,
    v.variant AS variant,
    v.users AS users,
    v.impressions AS impressions,
    v.clicked_impressions AS clicked_impressions,
    v.clicks AS clicks,
    round(v.clicked_impressions / nullIf(v.impressions, 0), 6) AS ctr,
    c.impressions AS control_impressions,
    c.clicked_impressions AS control_clicked_impressions,
    if(v.variant = 'control' OR c.impressions = 0 OR v.impressions = 0, NULL,
       proportionsZTest(v.clicked_impressions, c.clicked_impressions, v.impressions, c.impressions, 0.95, 'pooled')) AS test,
    test.1 AS z,
    test.2 AS p_value,
    test.3 AS ci_low,
    test.4 AS ci_high
FROM per_variant AS v
LEFT JOIN (SELECT * FROM per_variant WHERE variant = 'control') AS c ON v.experiment = c.experiment
ORDER BY experiment, variant = 'control' DESC, variant
