-- Business question: where on the page do ads get seen and clicked? The page is a grid of
-- 100 × 100 px cells (page coordinates, cell of the ad's center); per cell: impressions,
-- viewable impressions, clicks and CTR. Feeds the ad-position heatmap image.
--
-- Finalized days come from ad_heatmap_rollup (plain counts), open days from the uniqExact
-- states of ad_heatmap_daily; both count per day (schema.sql section 5).
SELECT
    cell_x,
    cell_y,
    cell_x * 100 AS x_px,
    cell_y * 100 AS y_px,
    sum(imp) AS impressions,
    sum(vis) AS viewable_impressions,
    sum(clk) AS clicks,
    round(clicks / nullIf(impressions, 0), 6) AS ctr
FROM
(
    SELECT cell_x, cell_y, impressions AS imp, viewable_impressions AS vis, clicks AS clk
    FROM sightline.ad_heatmap_rollup FINAL
    WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
      AND day IN (SELECT day FROM sightline.rollup_days FINAL WHERE finalized)
    UNION ALL
    SELECT cell_x, cell_y, uniqExactMerge(impressions), uniqExactMerge(viewable_impressions), uniqExactMerge(clicks)
    FROM sightline.ad_heatmap_daily
    WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
      AND day NOT IN (SELECT day FROM sightline.rollup_days FINAL WHERE finalized)
    GROUP BY day, cell_x, cell_y
)
GROUP BY cell_x, cell_y
ORDER BY cell_y, cell_x
