-- keyword_share_of_voice (CONTRACT.md, "Brands and campaigns"; docs/marts.md)
--
-- Per snapshot day D, keyword ranked on D and brand of brands.csv (every pair: 0 brand results is a real zero):
--   results             distinct notes ranked 1 .. $top_n under the keyword that day (a note listed twice counts
--                       once; two notes sharing a rank both count; never-crawled notes included)
--   brand_results       of those, notes that mention the brand: its latest crawl on or before D lists the brand
--                       in `brands`, or it is a post of one of the brand's campaigns (crawled or not)
--   share_of_voice      brand_results / results
--   brand_results_<tier> (nano, micro, mid, macro, top, unknown_tier)   brand_results by the author's tier on D:
--                       the author (the crawl's user_id, else the campaign post's) has its latest creator
--                       snapshot on or before D; tier from followers with $tier_bounds, the stored tier when
--                       followers are null; `unknown` without a snapshot. The six columns add up to brand_results.
-- Brands and keywords are matched on lower(trim(name)).
--
-- Inputs (views; kol_pipeline/lib/marts/keyword_share_of_voice.py registers them):
--   search_rankings(keyword, rank, note_id, snapshot_date)            the run's days
--   notes(note_id, user_id, brands, crawled_at, snapshot_date)        the window's crawls
--   creators(user_id, followers, tier, crawled_at, snapshot_date)     the window's creator snapshots
--   campaign_posts(post_row, campaign_id, note_id, user_id)           post_row = file order
--   campaigns(campaign_id, brand)
--   brands(brand)
-- Parameters: $days (DATE[]), $window_days (INTEGER: D sees the crawls and snapshots of D - $window_days .. D,
-- the partitions the asset's window mapping gives a one-day run of D), $top_n, $tier_bounds (BIGINT[4])

WITH
run_days AS (
    SELECT DISTINCT unnest($days::DATE[]) AS day
),

-- the day's ranked results: one row per keyword and note (its best rank)
ranked AS (
    SELECT snapshot_date AS day, keyword, note_id
    FROM search_rankings
    WHERE snapshot_date IN (SELECT day FROM run_days)
      AND note_id IS NOT NULL AND keyword IS NOT NULL AND rank BETWEEN 1 AND $top_n::BIGINT
    GROUP BY snapshot_date, keyword, note_id
),

results AS (
    SELECT day, keyword, count(*) AS results
    FROM ranked
    GROUP BY day, keyword
),

brand_list AS (
    SELECT DISTINCT brand, lower(trim(brand)) AS brand_key FROM brands
),

-- campaign posts with their brand, in file order
campaign_brand AS (
    SELECT p.post_row, p.note_id, p.user_id, lower(trim(c.brand)) AS brand_key
    FROM campaign_posts p
    JOIN campaigns c USING (campaign_id)
),

-- the ranked notes' crawls; a crawl is its note's latest from its own day until the day before the next crawl,
-- and D sees only the crawls of its own window (D - $window_days .. D), as a one-day run does
crawls AS (
    SELECT note_id, user_id, brands, snapshot_date AS crawl_day,
           lead(snapshot_date) OVER (PARTITION BY note_id ORDER BY snapshot_date, crawled_at) AS next_crawl_day
    FROM notes
    WHERE note_id IN (SELECT note_id FROM ranked)
),

latest_crawl AS (
    SELECT r.day, c.note_id, c.user_id, c.brands
    FROM (SELECT DISTINCT day, note_id FROM ranked) r
    JOIN crawls c ON c.note_id = r.note_id AND c.crawl_day BETWEEN r.day - $window_days::INTEGER AND r.day
                 AND (c.next_crawl_day IS NULL OR r.day < c.next_crawl_day)
),

-- (day, note, brand) mentions: by the crawl's brands, or as a campaign post of the brand
mentions AS (
    SELECT DISTINCT day, note_id, brand_key
    FROM (
        SELECT l.day, l.note_id, lower(trim(b.name)) AS brand_key
        FROM latest_crawl l, unnest(l.brands) AS b(name)
        WHERE b.name IS NOT NULL
        UNION ALL
        SELECT r.day, r.note_id, cb.brand_key
        FROM (SELECT DISTINCT day, note_id FROM ranked) r
        JOIN campaign_brand cb USING (note_id)
    )
),

-- a ranked note's author on D: the crawl's user_id, else the first campaign post's
authors AS (
    SELECT r.day, r.note_id,
           coalesce(l.user_id,
                    (SELECT arg_min(cb.user_id, cb.post_row) FROM campaign_brand cb
                     WHERE cb.note_id = r.note_id AND cb.user_id IS NOT NULL)) AS user_id
    FROM (SELECT DISTINCT day, note_id FROM ranked) r
    LEFT JOIN latest_crawl l USING (day, note_id)
),

snapshots AS (
    SELECT user_id, snapshot_date,
           coalesce(tier_of(followers, $tier_bounds), tier) AS tier
    FROM creators
    WHERE user_id IN (SELECT user_id FROM authors)
    QUALIFY row_number() OVER (PARTITION BY user_id, snapshot_date ORDER BY crawled_at DESC NULLS FIRST) = 1
),

-- the author's latest snapshot of D's window (D - $window_days .. D)
author_tier AS (
    SELECT a.day, a.user_id, s.tier
    FROM (SELECT DISTINCT day, user_id FROM authors WHERE user_id IS NOT NULL) a
    JOIN snapshots s ON s.user_id = a.user_id AND s.snapshot_date BETWEEN a.day - $window_days::INTEGER AND a.day
    QUALIFY row_number() OVER (PARTITION BY a.day, a.user_id ORDER BY s.snapshot_date DESC) = 1
),

hits AS (
    SELECT r.day, r.keyword, b.brand, coalesce(t.tier, 'unknown') AS tier
    FROM ranked r
    JOIN mentions m USING (day, note_id)
    JOIN brand_list b USING (brand_key)
    LEFT JOIN authors a USING (day, note_id)
    LEFT JOIN author_tier t ON t.day = r.day AND t.user_id = a.user_id
),

by_tier AS (
    SELECT day, keyword, brand,
           count(*) FILTER (WHERE tier = 'nano')    AS brand_results_nano,
           count(*) FILTER (WHERE tier = 'micro')   AS brand_results_micro,
           count(*) FILTER (WHERE tier = 'mid')     AS brand_results_mid,
           count(*) FILTER (WHERE tier = 'macro')   AS brand_results_macro,
           count(*) FILTER (WHERE tier = 'top')     AS brand_results_top,
           count(*) FILTER (WHERE tier = 'unknown') AS brand_results_unknown_tier
    FROM hits
    GROUP BY day, keyword, brand
),

grid AS (
    SELECT r.day, r.keyword, b.brand, r.results,
           coalesce(t.brand_results_nano, 0)         AS brand_results_nano,
           coalesce(t.brand_results_micro, 0)        AS brand_results_micro,
           coalesce(t.brand_results_mid, 0)          AS brand_results_mid,
           coalesce(t.brand_results_macro, 0)        AS brand_results_macro,
           coalesce(t.brand_results_top, 0)          AS brand_results_top,
           coalesce(t.brand_results_unknown_tier, 0) AS brand_results_unknown_tier
    FROM results r
    CROSS JOIN brand_list b
    LEFT JOIN by_tier t ON t.day = r.day AND t.keyword = r.keyword AND t.brand = b.brand
)

SELECT day AS snapshot_date,
       keyword,
       brand,
       results,
       brand_results,
       brand_results / results AS share_of_voice,
       brand_results_nano, brand_results_micro, brand_results_mid, brand_results_macro, brand_results_top,
       brand_results_unknown_tier
FROM (
    SELECT *,
           brand_results_nano + brand_results_micro + brand_results_mid + brand_results_macro + brand_results_top
               + brand_results_unknown_tier AS brand_results
    FROM grid
)
ORDER BY snapshot_date, keyword, brand
