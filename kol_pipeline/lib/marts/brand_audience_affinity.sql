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
--   latest(day, note_id, crawl: author, brands, published_day)   each note's latest crawl on or before D among
--                      the crawls of D - $note_window .. D: brand_audience_affinity_latest.sql over the notes
--                      window's crawls (computed once for all buckets of creators)
--   creator_scorecard(user_id, nickname, tier, primary_category, snapshot_date)  the run's days
--   brands(brand)
-- Parameters: $days (DATE[], the run's days: every day in one query), $window_days (90), $min_commenters (20),
-- $min_shared (>= 1), $buckets and $bucket: the creators X with hash(X) % $buckets = $bucket
-- (a large comment window is run a bucket of creators at a time: every count of a row is about its creator X, so
-- a bucket gives X's rows whole; only rank_in_brand spans creators, and brand_audience_affinity.py ranks the
-- buckets' rows again with brand_audience_affinity_rank.sql. The hash splits the work; it is never a key)
--
-- Cost: each day of a run joins its own window (90 days of comments, 122 of note crawls), with hash aggregates
-- rather than sorts (BENCHMARKS.md "brand_audience_affinity without window functions": the 100k harness history's
-- last day 73.6 s -> 18.0 s, the same rows). The (creator, commenter) pairs are never held whole: one DISTINCT
-- counts them per creator, a second keeps only those whose commenter is in a brand's audience (18 M pairs held
-- for both uses ran out of DuckDB's 1 GB in five runs of eight: BENCHMARKS.md, twenty-third session)

WITH
run_days AS (
    SELECT DISTINCT unnest($days::DATE[]) AS day
),

-- every comment of D's window: who commented on which note
commented AS NOT MATERIALIZED (
    SELECT d.day, c.note_id, c.user_id AS commenter
    FROM run_days d
    JOIN comments c ON c.snapshot_date BETWEEN d.day - ($window_days::INTEGER - 1) AND d.day
    WHERE c.note_id IS NOT NULL AND c.user_id IS NOT NULL AND trim(c.user_id) <> ''
),

brand_keys AS (
    SELECT DISTINCT brand, lower(trim(brand)) AS brand_key
    FROM brands
    WHERE brand IS NOT NULL AND trim(brand) <> ''
),

-- the brands each note of D lists (registered brands only)
note_brands AS (
    SELECT DISTINCT l.day, l.note_id, l.author, l.published_day, b.brand
    FROM (SELECT day, note_id, crawl.author AS author, crawl.published_day AS published_day,
                 lower(trim(unnest(crawl.brands))) AS brand_key
          FROM latest WHERE len(crawl.brands) > 0) l
    JOIN brand_keys b USING (brand_key)
),

-- each creator's distinct commenters in D's window, a creator's comments under their own notes set aside
creator_commenters AS NOT MATERIALIZED (
    SELECT DISTINCT cm.day, l.crawl.author AS author, cm.commenter
    FROM commented cm
    JOIN latest l ON l.day = cm.day AND l.note_id = cm.note_id
    WHERE cm.commenter <> l.crawl.author
      AND hash(l.crawl.author) % $buckets::UBIGINT = $bucket::UBIGINT
),

-- commenters_90d per creator, over the threshold
creator_audience AS (
    SELECT day, author AS user_id, count(*) AS commenters_90d
    FROM creator_commenters
    GROUP BY day, author
    HAVING count(*) >= $min_commenters::BIGINT
),

-- the comments of D's window on notes that list a brand, with the note's author (not the commenter)
audience AS (
    SELECT DISTINCT cm.day, nb.brand, nb.author, cm.commenter
    FROM commented cm
    JOIN note_brands nb ON nb.day = cm.day AND nb.note_id = cm.note_id
    WHERE cm.commenter <> nb.author
),

-- per day, brand and commenter: how many distinct authors' notes mentioning the brand they commented on, and one
-- of them; "another author than X" is then: two or more authors, or one who is not X (no pairwise join)
brand_audience AS (
    SELECT day, brand, commenter, count(*) AS authors, min(author) AS one_author
    FROM audience
    GROUP BY day, brand, commenter
),

-- the (creator, commenter) pairs of creator_commenters whose commenter is in some brand's audience: the only
-- pairs `shared` can join (not the whole set, 18 M pairs on the 100k benchmark day: held for two uses, it left too
-- little of DuckDB's 1 GB for the aggregates: "Out of Memory" in five runs of eight; BENCHMARKS.md, twenty-third session)
audience_creators AS (
    SELECT DISTINCT cm.day, l.crawl.author AS author, cm.commenter
    FROM commented cm
    JOIN latest l ON l.day = cm.day AND l.note_id = cm.note_id
    WHERE cm.commenter <> l.crawl.author
      AND hash(l.crawl.author) % $buckets::UBIGINT = $bucket::UBIGINT
      AND (cm.day, cm.commenter) IN (SELECT day, commenter FROM brand_audience)
),

shared AS (
    SELECT ca.day, ba.brand, ca.user_id, count(*) AS shared_commenters
    FROM brand_audience ba
    JOIN audience_creators x ON x.day = ba.day AND x.commenter = ba.commenter
    JOIN creator_audience ca ON ca.day = x.day AND ca.user_id = x.author
    WHERE ba.authors >= 2 OR ba.one_author <> ca.user_id
    GROUP BY ca.day, ba.brand, ca.user_id
    HAVING count(*) >= greatest($min_shared::BIGINT, 1)
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
