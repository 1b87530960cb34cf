-- Business question: what is the collector turning away, and why? Dead letters per reason
-- (sightline.rejected) for the site; a spike means a broken SDK release or an attack.
SELECT
    reason,
    count() AS rejected
FROM sightline.rejected_events
WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date} AND decode_error = ''
GROUP BY reason
ORDER BY reason
