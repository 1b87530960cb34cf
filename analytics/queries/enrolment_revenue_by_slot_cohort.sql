-- Business question: which ad slots bring enrolments, and how much revenue, per student cohort?
-- Enrolments come from the backend (JSON import API, track('Course Enrolled', {course_id,
-- revenue})) and are joined on user id to the browser's ad clicks: each enrolment is credited
-- to the user's last ad click before it, within 7 days (last-click attribution). Both sides are
-- deduplicated by event id (FINAL), so redelivered clicks or retried enrolments change nothing.
SELECT
    slot_id,
    cohort,
    count() AS enrolments,
    round(sum(revenue), 2) AS revenue
FROM
(
    SELECT
        e.event_id,
        any(e.revenue) AS revenue,
        argMax(c.slot_id, c.event_time) AS slot_id,
        argMax(c.cohort, c.event_time) AS cohort
    FROM
    (
        SELECT event_id, user_key, event_time, revenue
        FROM sightline.enrolments FINAL
        WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
    ) AS e
    INNER JOIN
    (
        SELECT user_key, event_time, slot_id, cohort
        FROM sightline.events_unique
        WHERE kind = 'ad_click' AND site_key = {site_key:String}
          AND day BETWEEN {date_from:Date} - 7 AND {date_to:Date}
    ) AS c ON e.user_key = c.user_key
    WHERE c.event_time <= e.event_time AND c.event_time > e.event_time - INTERVAL 7 DAY
    GROUP BY e.event_id
)
GROUP BY slot_id, cohort
ORDER BY revenue DESC, slot_id, cohort
