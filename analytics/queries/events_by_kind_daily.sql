-- Business question: how many distinct interactions of each kind did the site collect per day
-- (after removing redelivered duplicates by event id)? The health view of the pipeline.
--
-- Finalized days come from events_kind_rollup (schema.sql section 5), open days from the
-- events_kind_daily uniqExact states (section 3), not from the raw events table.
SELECT day, kind, events, users, sessions
FROM
(
    SELECT day, kind, events, users, sessions
    FROM sightline.events_kind_rollup FINAL
    WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
      AND day IN (SELECT day FROM sightline.rollup_days FINAL WHERE finalized)
    UNION ALL
    SELECT day, kind, uniqExactMergeIf(ids, dimension = 'event'), uniqExactMergeIf(ids, dimension = 'user'),
           uniqExactMergeIf(ids, dimension = 'session')
    FROM sightline.events_kind_daily
    WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
      AND day NOT IN (SELECT day FROM sightline.rollup_days FINAL WHERE finalized)
    GROUP BY day, kind
)
ORDER BY day, kind
