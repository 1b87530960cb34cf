-- Business question: how many distinct interactions of each kind did the site collect per day
-- (after removing redelivered duplicates by event id)? The health view of the pipeline.
SELECT
    day,
    kind,
    uniqExact(event_id) AS events,
    uniqExact(user_key) AS users,
    uniqExact(session_id) AS sessions
FROM sightline.events
WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
GROUP BY day, kind
ORDER BY day, kind
