-- Business question: of the students who search, how many view a course, click an ad and then
-- enrol (the backend's track('Course Enrolled'), JSON import API) within 7 days? Per user, not
-- per session: the enrolment happens on the server, which knows the user id, not the browser
-- session. windowFunnel gives each user the deepest step reached in order.
SELECT
    level AS step,
    ['search', 'course_view', 'ad_click', 'enrolment'][level] AS step_name,
    countIf(reached >= level) AS users
FROM
(
    SELECT
        user_key,
        windowFunnel(604800000)(t, step = 1, step = 2, step = 3, step = 4) AS reached
    FROM
    (
        SELECT user_key, toUInt64(toUnixTimestamp64Milli(event_time)) AS t, toUInt8(step) AS step
        FROM sightline.journey_steps
        WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
        UNION ALL
        SELECT user_key, toUInt64(toUnixTimestamp64Milli(event_time)) AS t, toUInt8(4) AS step
        FROM sightline.enrolments FINAL
        WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
    )
    GROUP BY user_key
)
ARRAY JOIN [1, 2, 3, 4] AS level
GROUP BY level
ORDER BY level
