-- Business question: of the sessions that search, how many go on to view a course page and then
-- click an ad within 30 minutes of the search? windowFunnel gives each session the deepest step
-- it reached in order; a session counts at every step up to that one. Duplicated step events
-- cannot add a step (timestamps in ms, window 1 800 000 ms), so redelivery does not change the answer. Feeds the funnel chart.
SELECT
    level AS step,
    ['search', 'course_view', 'ad_click'][level] AS step_name,
    countIf(reached >= level) AS sessions
FROM
(
    SELECT
        session_id,
        windowFunnel(1800000)(toUInt64(toUnixTimestamp64Milli(event_time)), step = 'search', step = 'course_view', step = 'ad_click') AS reached
    FROM sightline.journey_steps
    WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
    GROUP BY session_id
)
ARRAY JOIN [1, 2, 3] AS level
GROUP BY level
ORDER BY level
