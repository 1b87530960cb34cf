-- Business question: does an experiment's variant change the ad click-through rate, and is the
-- difference more than chance? Per (experiment, variant): users, impressions, clicked
-- impressions (an impression clicked at least once: a yes/no outcome per impression) and clicks.
-- Each non-control variant is compared with the experiment's "control" by a two-proportion
-- z-test (pooled) on clicked impressions / impressions: z, two-sided p-value, 95 % CI of the
-- difference (variant − control).
WITH per_variant AS
(
    SELECT
        experiment,
        variant,
        uniqExactMerge(users) AS users,
        uniqExactMerge(impressions) AS impressions,
        uniqExactMerge(clicked_impressions) AS clicked_impressions,
        uniqExactMerge(clicks) AS clicks
    FROM sightline.ab_ctr_daily
    WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
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
