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
-- The steps, each a query beside this one (kol_pipeline/lib/marts/brand_audience_affinity.py runs them, once per
-- run unless said):
--   brand_audience_affinity_latest.sql       latest(day, note_id, crawl): each note's latest crawl on or before D
--   brand_audience_affinity_note_brands.sql  note_brands(day, note_id, author, published_day, brand)
--   brand_audience_affinity_audience.sql     brand_audience(day, brand, commenter, authors, one_author): who
--                                            commented on another author's note listing B, and on whose
--   brand_audience_affinity_pairs.sql        pairs(day, author, commenter): a row per comment of D's window on a
--                                            note of a known author, not by that author; written as a Parquet
--                                            file per bucket of authors
--   this query                               a bucket of creators at a time (every count of a row is about its
--                                            creator X, so a bucket gives X's rows whole)
--   brand_audience_affinity_rank.sql         rank_in_brand across the buckets' rows, when there are several
--
-- Inputs (views):
--   pairs(day, author, commenter)            the pairs of one bucket of creators (or of all)
--   brand_audience(day, brand, commenter, authors, one_author)
--   note_brands(day, note_id, author, published_day, brand)
--   creator_scorecard(user_id, nickname, tier, primary_category, snapshot_date)  the run's days
-- Parameters: $window_days (90), $min_commenters (20), $min_shared (>= 1).
--
-- Cost: hash aggregates rather than sorts (BENCHMARKS.md "brand_audience_affinity without window functions": the
-- 100k harness history's last day 73.6 s -> 18.0 s, the same rows). The (creator, commenter) pairs are never held
-- whole: one DISTINCT counts them per creator, a second keeps only those whose commenter is in a brand's audience
-- (18 M pairs held for both uses ran out of DuckDB's 1 GB in five runs of eight: BENCHMARKS.md, twenty-third
-- session)

WITH
-- each creator's distinct commenters in D's window
creator_commenters AS NOT MATERIALIZED (
    SELECT DISTINCT day, author, commenter
    FROM pairs
),

-- commenters_90d per creator, over the threshold
creator_audience AS (
    SELECT day, author AS user_id, count(*) AS commenters_90d
    FROM creator_commenters
    GROUP BY day, author
    HAVING count(*) >= $min_commenters::BIGINT
),

-- the (creator, commenter) pairs whose commenter is in some brand's audience: the only pairs `shared` can join
audience_creators AS (
    SELECT DISTINCT day, author, commenter
    FROM pairs
    WHERE (day, commenter) IN (SELECT day, commenter FROM brand_audience)
),

-- per day, brand and creator X: X's commenters who commented on a note listing the brand by another author than X
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
