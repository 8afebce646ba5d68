-- brand_audience_affinity (CONTRACT.md, "Finding the right creators"; docs/marts.md)
--
-- "Which creators does the brand's audience already follow", from comment sections. Per snapshot day D, brand B
-- and creator X, over the comments with snapshot_date in D - ($window_days - 1) .. D (D-89 .. D for 90):
--   commenters_90d     distinct users who commented on X's notes, X excluded (a creator replying under their own
--                      notes is not their audience)
--   shared_commenters  of them, those who in the same window also commented on a note mentioning B written by
--                      another author than X (X's own notes mentioning B do not count: they would make every
--                      partner's own audience "the brand's audience"); a user commenting on a B note they wrote
--                      themself is not counted as B's audience either
--   affinity           shared_commenters / commenters_90d
--   mentions_brand     X mentioned B in a note published (Asia/Shanghai day) in the window: an existing partner
--                      or fan of B, against a prospect
--   tier, primary_category, nickname   creator_scorecard's row of X on D (null when X has none)
--   rank_in_brand      1 = highest affinity for B on D (ties: more shared commenters, then user_id)
-- Rows only where commenters_90d >= $min_commenters (20) and shared_commenters >= $min_shared (1).
-- A commenter is counted once per creator (and per brand), however many comments or days. Replies count like
-- top-level comments: a reply is a comment on the note too.
-- A note's author and brands: its latest crawl on or before D among the crawls of D - $note_window .. D (the
-- notes input's window of a one-day run); a comment on a note never crawled in that window has no known author
-- and counts for nobody. A note mentions B when its `brands` list B (lower(trim) match with brands.csv).
--
-- Inputs (views; kol_pipeline/lib/marts/brand_audience_affinity.py registers them):
--   comments(note_id, user_id, snapshot_date)                  the cleaned comments of the run's 90-day window
--   notes(note_id, user_id, brands, published_at, crawled_at, snapshot_date)   the notes window's crawls
--   creator_scorecard(user_id, nickname, tier, primary_category, snapshot_date)  the run's days
--   brands(brand)
-- Parameters: $days (DATE[], the run's days: every day in one query), $window_days (90), $note_window (121),
-- $min_commenters (20), $min_shared (>= 1)

WITH
run_days AS (
    SELECT DISTINCT unnest($days::DATE[]) AS day
),

-- who commented on which note on which snapshot day (one row however many comments)
commented AS (
    SELECT DISTINCT note_id, user_id AS commenter, snapshot_date
    FROM comments
    WHERE note_id IS NOT NULL AND user_id IS NOT NULL AND trim(user_id) <> ''
),

-- the days D whose window holds a (note, commenter) pair, as spans: from each snapshot day until the day before
-- the pair's next one, at most $window_days days, so that each (D, note, commenter) is found once
spans AS (
    SELECT note_id, commenter, snapshot_date AS since,
           least(snapshot_date + ($window_days::INTEGER - 1),
                 coalesce(lead(snapshot_date) OVER (PARTITION BY note_id, commenter ORDER BY snapshot_date) - 1,
                          snapshot_date + ($window_days::INTEGER - 1))) AS until
    FROM commented
),

seen AS (
    SELECT d.day, s.note_id, s.commenter
    FROM run_days d
    JOIN spans s ON d.day BETWEEN s.since AND s.until
),

-- the crawls that matter: of commented notes and of notes listing a brand; a crawl is its note's latest from its
-- own day until the day before the note's next crawl
crawls AS (
    SELECT note_id, user_id AS author, brands,
           timezone('Asia/Shanghai', published_at)::DATE AS published_day,
           snapshot_date AS crawl_day,
           lead(snapshot_date) OVER (PARTITION BY note_id ORDER BY snapshot_date, crawled_at) AS next_crawl_day
    FROM notes
    WHERE note_id IS NOT NULL AND user_id IS NOT NULL
      AND (len(brands) > 0 OR note_id IN (SELECT note_id FROM commented))
),

latest AS MATERIALIZED (
    SELECT d.day, c.note_id, c.author, c.brands, c.published_day
    FROM run_days d
    JOIN crawls c ON c.crawl_day BETWEEN d.day - $note_window::INTEGER AND d.day
                 AND (c.next_crawl_day IS NULL OR d.day < c.next_crawl_day)
),

brand_keys AS (
    SELECT DISTINCT brand, lower(trim(brand)) AS brand_key
    FROM brands
    WHERE brand IS NOT NULL AND trim(brand) <> ''
),

-- the brands each note of D lists (registered brands only)
note_brands AS (
    SELECT DISTINCT l.day, l.note_id, l.author, l.published_day, b.brand
    FROM (SELECT day, note_id, author, published_day, lower(trim(unnest(brands))) AS brand_key FROM latest) l
    JOIN brand_keys b USING (brand_key)
),

-- the comments of D's window with their note's author; a creator's comments under their own notes set aside
audience AS MATERIALIZED (
    SELECT DISTINCT s.day, l.author, s.commenter, s.note_id
    FROM seen s
    JOIN latest l ON l.day = s.day AND l.note_id = s.note_id
    WHERE s.commenter <> l.author
),

-- commenters_90d per creator (distinct users), over the threshold
creator_audience AS (
    SELECT day, author AS user_id, count(DISTINCT commenter) AS commenters_90d
    FROM audience
    GROUP BY day, author
    HAVING count(DISTINCT commenter) >= $min_commenters::BIGINT
),

-- per day, brand and commenter: how many distinct authors' notes mentioning the brand they commented on, and one
-- of them; "another author than X" is then: two or more authors, or one who is not X (no pairwise join)
brand_audience AS (
    SELECT a.day, nb.brand, a.commenter, count(DISTINCT a.author) AS authors, min(a.author) AS one_author
    FROM audience a
    JOIN note_brands nb ON nb.day = a.day AND nb.note_id = a.note_id
    GROUP BY a.day, nb.brand, a.commenter
),

shared AS (
    SELECT ca.day, ba.brand, ca.user_id, count(DISTINCT x.commenter) AS shared_commenters
    FROM creator_audience ca
    JOIN (SELECT DISTINCT day, author, commenter FROM audience) x ON x.day = ca.day AND x.author = ca.user_id
    JOIN brand_audience ba ON ba.day = x.day AND ba.commenter = x.commenter
    WHERE ba.authors >= 2 OR ba.one_author <> ca.user_id
    GROUP BY ca.day, ba.brand, ca.user_id
    HAVING count(DISTINCT x.commenter) >= greatest($min_shared::BIGINT, 1)
),

-- mentions_brand: the creator's notes published in D's window that list the brand
mentions AS (
    SELECT DISTINCT day, brand, author AS user_id
    FROM note_brands
    WHERE published_day BETWEEN day - ($window_days::INTEGER - 1) AND day
),

scorecard AS (
    SELECT snapshot_date AS day, user_id, nickname, tier, primary_category
    FROM creator_scorecard
    QUALIFY row_number() OVER (PARTITION BY snapshot_date, user_id ORDER BY tier NULLS LAST) = 1
)

SELECT s.day                                             AS snapshot_date,
       s.brand,
       s.user_id,
       ca.commenters_90d,
       s.shared_commenters,
       s.shared_commenters / ca.commenters_90d           AS affinity,
       m.user_id IS NOT NULL                             AS mentions_brand,
       sc.tier,
       sc.primary_category,
       sc.nickname,
       row_number() OVER (PARTITION BY s.day, s.brand
                          ORDER BY s.shared_commenters / ca.commenters_90d DESC, s.shared_commenters DESC,
                                   s.user_id)            AS rank_in_brand
FROM shared s
JOIN creator_audience ca ON ca.day = s.day AND ca.user_id = s.user_id
LEFT JOIN mentions m ON m.day = s.day AND m.brand = s.brand AND m.user_id = s.user_id
LEFT JOIN scorecard sc ON sc.day = s.day AND sc.user_id = s.user_id
ORDER BY snapshot_date, brand, rank_in_brand
