-- Business question: how many distinct interactions of each kind did the site collect per day
-- (after removing redelivered duplicates by event id)? The health view of the pipeline.
--
-- Finalized days come from events_kind_rollup (schema.sql section 5), open days from the
-- events_kind_daily states (section 3): per hash bucket an exact distinct count, summed (an id
-- is in one bucket only, so the sum is exact).
SELECT day, kind, events, users, sessions
FROM
(
    SELECT day, kind, events, users, sessions
    FROM sightline.events_kind_rollup FINAL
    WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
      AND day IN (SELECT day FROM sightline.rollup_days FINAL WHERE finalized)
    UNION ALL
    SELECT day, kind, sumIf(n, dimension = 'event'), sumIf(n, dimension = 'user'), sumIf(n, dimension = 'session')
    FROM
    (
        SELECT day, kind, dimension, bucket, uniqExactMerge(ids) AS n
        FROM sightline.events_kind_daily
        WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
          AND day NOT IN (SELECT day FROM sightline.rollup_days FINAL WHERE finalized)
        GROUP BY day, kind, dimension, bucket
    )
    GROUP BY day, kind
)
ORDER BY day, kind
