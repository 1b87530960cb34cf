-- Business question: where on the page do ads get seen and clicked? The page is a grid of
-- 100 × 100 px cells (page coordinates, cell of the ad's center); per cell: impressions,
-- viewable impressions, clicks and CTR. Feeds the ad-position heatmap image.
SELECT
    cell_x,
    cell_y,
    cell_x * 100 AS x_px,
    cell_y * 100 AS y_px,
    uniqExactMerge(impressions) AS impressions,
    uniqExactMerge(viewable_impressions) AS viewable_impressions,
    uniqExactMerge(clicks) AS clicks,
    round(clicks / nullIf(impressions, 0), 6) AS ctr
FROM sightline.ad_heatmap_daily
WHERE site_key = {site_key:String} AND day BETWEEN {date_from:Date} AND {date_to:Date}
GROUP BY cell_x, cell_y
ORDER BY cell_y, cell_x
