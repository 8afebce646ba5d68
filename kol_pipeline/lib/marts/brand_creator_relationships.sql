-- brand_creator_relationships (CONTRACT.md, "Brands and campaigns"; docs/marts.md)
--
-- Per snapshot day D, brand and creator who mentioned the brand in a note published in the trailing
-- $window_days days (D - 179 .. D for 180; the Asia/Shanghai day of published_at):
--   notes              distinct notes mentioning the brand
--   sponsored_notes    of those, campaign posts (any campaign) or disclosed (is_disclosed)
--   organic_notes      the others
--   first/last_mention_date, distinct_weeks (ISO weeks with a mention), is_repeat = distinct_weeks >= 2
-- A mention as of D is
--   * a brand listed in `brands` by the note's latest crawl on or before D, or
--   * a post of one of the brand's campaigns: crawled by D, it counts with the crawl's author, publish day and
--     disclosure; never crawled by D, with campaign_posts.user_id and its posted_date.
--
-- Inputs (views; kol_pipeline/lib/marts/brand_creator_relationships.py registers them):
--   notes(note_id, user_id, brands, published_at, is_disclosed, crawled_at, snapshot_date)   the window's crawls
--   campaign_posts(campaign_id, note_id, user_id, posted_date)
--   campaigns(campaign_id, brand)
--   brands(brand)
-- Parameters: $days (the run's days, DATE[]: every day in one query), $window_days (INTEGER: also the crawls D
-- sees, D - $window_days .. D, the asset's window mapping of a one-day run, so a ranged run gives each day the
-- rows of a one-day run)
-- Brands are matched on lower(trim(name)).

WITH
run_days AS (
    SELECT DISTINCT unnest($days::DATE[]) AS day
),

-- a campaign post's day: the earliest posted_date of the note over every campaign
posts AS (
    SELECT note_id, min(posted_date) AS posted_date
    FROM campaign_posts
    WHERE note_id IS NOT NULL
    GROUP BY note_id
),

-- the crawls that can make a mention: of notes listing a brand on some crawl of the window, or campaign posts;
-- a crawl is its note's latest from its own day until the day before the note's next crawl
crawls AS (
    SELECT note_id, user_id, brands, coalesce(is_disclosed, false) AS is_disclosed,
           timezone('Asia/Shanghai', published_at)::DATE AS published_day,
           snapshot_date AS crawl_day,
           lead(snapshot_date) OVER (PARTITION BY note_id ORDER BY snapshot_date, crawled_at) AS next_crawl_day
    FROM notes
    WHERE note_id IN (SELECT note_id FROM notes WHERE len(brands) > 0 UNION SELECT note_id FROM posts)
),

-- each note's latest crawl of D's window (D - $window_days .. D: the partitions the asset's window mapping gives a
-- one-day run of D; an older crawl of a ranged run's wider window is not D's)
latest_crawl AS (
    SELECT d.day, c.*
    FROM run_days d
    JOIN crawls c ON c.crawl_day BETWEEN d.day - $window_days::INTEGER AND d.day
                 AND (c.next_crawl_day IS NULL OR d.day < c.next_crawl_day)
),

-- mentions by the note itself: the brands its latest crawl lists
listed AS (
    SELECT l.day, l.note_id, l.user_id, l.published_day, l.is_disclosed,
           lower(trim(b.name)) AS brand_key, 1 AS priority
    FROM latest_crawl l, unnest(l.brands) AS b(name)
    WHERE b.name IS NOT NULL
),

-- mentions by campaign: every post of one of the brand's campaigns, crawled by D or not
campaign AS (
    SELECT d.day, cp.note_id,
           coalesce(l.user_id, cp.user_id) AS user_id,
           coalesce(l.published_day, p.posted_date) AS published_day,
           coalesce(l.is_disclosed, false) AS is_disclosed,
           lower(trim(c.brand)) AS brand_key, 2 AS priority
    FROM run_days d
    CROSS JOIN campaign_posts cp
    JOIN campaigns c USING (campaign_id)
    JOIN posts p USING (note_id)
    LEFT JOIN latest_crawl l ON l.day = d.day AND l.note_id = cp.note_id
),

-- one mention per day, note and brand (the note's own crawl first)
mentions AS (
    SELECT *
    FROM (SELECT * FROM listed UNION ALL SELECT * FROM campaign)
    QUALIFY row_number() OVER (PARTITION BY day, note_id, brand_key ORDER BY priority, user_id NULLS LAST) = 1
),

-- the mentions of registered brands published in D's window, by a known creator
window_mentions AS (
    SELECT m.day, b.brand, m.user_id, m.note_id, m.published_day,
           m.note_id IN (SELECT note_id FROM posts) OR m.is_disclosed AS is_sponsored,
           isoyear(m.published_day) * 100 + week(m.published_day) AS iso_week
    FROM mentions m
    JOIN (SELECT DISTINCT brand, lower(trim(brand)) AS brand_key FROM brands) b USING (brand_key)
    WHERE m.user_id IS NOT NULL
      AND m.published_day BETWEEN m.day - ($window_days::INTEGER - 1) AND m.day
)

SELECT day                                                  AS snapshot_date,
       brand,
       user_id,
       count(DISTINCT note_id)                              AS notes,
       count(DISTINCT note_id) FILTER (WHERE is_sponsored)  AS sponsored_notes,
       count(DISTINCT note_id) FILTER (WHERE NOT is_sponsored) AS organic_notes,
       min(published_day)                                   AS first_mention_date,
       max(published_day)                                   AS last_mention_date,
       count(DISTINCT iso_week)                             AS distinct_weeks,
       count(DISTINCT iso_week) >= 2                        AS is_repeat
FROM window_mentions
GROUP BY day, brand, user_id
ORDER BY snapshot_date, brand, user_id
