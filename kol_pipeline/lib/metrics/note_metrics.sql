-- note_metrics (CONTRACT.md, "Note engagement curve and longevity"; docs/metrics.md)
--
-- Per snapshot day D, one row per note observed on or before D and published in the trailing $note_window_days
-- days (D - 119 .. D for 120; published_date = the Asia/Shanghai day of published_at), from the states of D:
--   age_days, engagements, likes, saves, comments, shares, crawled_at, category, brands, is_disclosed
--                      the note's latest observation on or before D (note_state)
--   eng_2d, eng_7d, eng_30d, eng_90d
--                      E(h): the running-maximum engagement curve (publish instant = (0, 0)) interpolated at age
--                      h between the nearest observations at or below and at or above h, null when either is
--                      more than 2 days from h; note_state carries E(h) once the observation at or above h is crawled
--   half_life_days     the smallest age t in [0, 30] with E(t) >= 0.5 * eng_30d (note_state, set with eng_30d)
--   followers, tier    the author's followers at the latest creator snapshot on or before D (within the
--                      $creator_lookback days the state keeps), and its tier: nano < $tier_bounds[1] <= micro
--                      < [2] <= mid < [3] <= macro < [4] <= top; a snapshot with a null follower count gives null
--   er_7d              eng_7d / followers of the author on the day the note reached age 7 (t7 = the Shanghai day of
--                      published_at + 7 days): the nearest creator snapshot within $tolerance_days of t7, the
--                      earlier on a tie, taken on or before D; null if none or not > 0
--   save_to_like       saves / likes at the latest observation (null when likes = 0)
--   share_after_48h    1 - eng_2d / eng_30d (null when eng_30d is null or 0)
--   is_evergreen       (eng_90d - eng_30d) / eng_90d >= $evergreen_share (null unless eng_90d > 0 and eng_30d known)
--   is_viral           engagements >= max($viral_min, $viral_multiple x the author's median engagements over their
--                      notes published in the trailing $creator_window_days days), at the latest observation
--   is_sponsored       in campaign_posts, or disclosed
--   substantive_comment_share
--                      share of substantive comments among the note's top-level comments seen so far
--                      (the input comment_shares; null when none)
--   comment_sentiment  net sentiment ratio (positive - negative) / (positive + negative) of the note's top-level
--                      comments seen so far (CONTRACT.md "Finding the right creators"; the input comment_shares,
--                      note_comment_share.sql; null when positive + negative < 3)
--
-- Inputs (views; kol_pipeline/lib/metrics/note_metrics.py registers them):
--   note_state(snapshot_date, note_id, user_id, published_at, pub_day, first_sd, crawled_at, age_days, likes,
--              saves, comments, shares, engagements, category, brands, is_disclosed, eng_2d, eng_7d, eng_30d,
--              eng_90d, half_life_days)                   the note states of the run's days
--   creator_state(snapshot_date, user_id, followers_by_day)
--              followers_by_day[i + 1] = followers of the snapshot of day D - i (null or NaN: no snapshot that
--              day; -1: a snapshot whose follower count is null)
--   campaign_posts(note_id)
--   comment_shares(snapshot_date, note_id, comment_share, comment_sentiment)
-- Parameters: $days (DATE[]: every day of the run in one query), $note_window_days, $creator_window_days,
--   $creator_lookback, $tolerance_days, $viral_min, $viral_multiple, $evergreen_share, $tier_bounds (DOUBLE[4])

WITH
run_days AS (
    SELECT DISTINCT unnest($days::DATE[]) AS day
),

-- the notes of D's window: published in the trailing window, first observed on or before D
notes AS (
    SELECT s.snapshot_date AS day, s.note_id, s.user_id, s.published_at,
           s.pub_day::DATE AS published_date,
           -- the day the note reached age 7, as an offset back from D into followers_by_day
           s.snapshot_date - (timezone('Asia/Shanghai', s.published_at)::DATE + 7) AS t7_offset,
           s.age_days, s.engagements, s.likes, s.saves, s.comments, s.shares, s.category, s.brands,
           s.is_disclosed, s.crawled_at, s.eng_2d, s.eng_7d, s.eng_30d, s.eng_90d, s.half_life_days
    FROM note_state s
    WHERE s.snapshot_date IN (SELECT day FROM run_days)
      AND s.pub_day IS NOT NULL AND s.first_sd IS NOT NULL
      AND greatest(s.first_sd, s.pub_day)::DATE <= s.snapshot_date
      AND s.pub_day::DATE >= s.snapshot_date - ($note_window_days::INTEGER - 1)
),

-- the authors' follower histories as of D (element offset + 1 is the snapshot of day D - offset)
creators AS (
    SELECT c.snapshot_date AS day, c.user_id,
           list_transform(c.followers_by_day, lambda f: CASE WHEN isnan(f) THEN NULL ELSE f END) AS by_day
    FROM creator_state c
    WHERE c.snapshot_date IN (SELECT day FROM run_days)
      AND c.user_id IN (SELECT user_id FROM notes)
),

-- followers: the latest snapshot within the lookback (the first present element)
latest AS (
    SELECT day, user_id,
           by_day[list_position(list_transform(by_day[1:$creator_lookback::INTEGER + 1], lambda f: f IS NOT NULL), true)]
               AS followers
    FROM creators
),

-- er_7d's followers: the snapshots within $tolerance_days of t7 (offsets t7_offset - 3 .. t7_offset + 3, not
-- after D, within the lookback); the nearest wins, the earlier (the larger offset) on a tie
near_t7 AS (
    SELECT n.day, n.note_id, off, c.by_day[off + 1] AS followers,
           2 * abs(off - n.t7_offset) + CASE WHEN off < n.t7_offset THEN 1 ELSE 0 END AS preference
    FROM notes n
    JOIN creators c ON c.day = n.day AND c.user_id = n.user_id,
         unnest(range(n.t7_offset - $tolerance_days::INTEGER, n.t7_offset + $tolerance_days::INTEGER + 1)) AS o(off)
    WHERE off BETWEEN 0 AND $creator_lookback::INTEGER AND c.by_day[off + 1] IS NOT NULL
),
followers_t7 AS (
    SELECT day, note_id, arg_min(followers, preference) AS followers
    FROM near_t7
    GROUP BY day, note_id
),

-- is_viral's baseline: each author's median engagements over their notes published in the creator window
author_median AS (
    SELECT day, user_id, median(engagements) AS median_engagements
    FROM notes
    WHERE user_id IS NOT NULL AND published_date >= day - ($creator_window_days::INTEGER - 1)
    GROUP BY day, user_id
),

sponsored AS (
    SELECT DISTINCT note_id FROM campaign_posts WHERE note_id IS NOT NULL
),

joined AS (
    SELECT n.*,
           nullif(l.followers, -1) AS followers,          -- -1: a snapshot with a null follower count
           nullif(f7.followers, -1) AS followers_t7,
           m.median_engagements,
           n.note_id IN (SELECT note_id FROM sponsored) AS in_campaign,
           cs.comment_share,
           cs.comment_sentiment
    FROM notes n
    LEFT JOIN latest l ON l.day = n.day AND l.user_id = n.user_id
    LEFT JOIN followers_t7 f7 ON f7.day = n.day AND f7.note_id = n.note_id
    LEFT JOIN author_median m ON m.day = n.day AND m.user_id = n.user_id
    LEFT JOIN comment_shares cs ON cs.snapshot_date = n.day AND cs.note_id = n.note_id
)

SELECT day                                                           AS snapshot_date,
       note_id,
       user_id,
       published_date,
       age_days,
       engagements,
       likes,
       saves,
       comments,
       shares,
       followers::BIGINT                                             AS followers,
       tier_of(followers, $tier_bounds)                                           AS tier,
       category,
       brands,
       in_campaign OR coalesce(is_disclosed, false)                  AS is_sponsored,
       is_disclosed,
       eng_2d,
       eng_7d,
       eng_30d,
       eng_90d,
       CASE WHEN followers_t7 > 0 THEN eng_7d / followers_t7 END     AS er_7d,
       CASE WHEN likes > 0 THEN saves / likes END                    AS save_to_like,
       CASE WHEN eng_30d > 0 THEN 1.0 - eng_2d / eng_30d END         AS share_after_48h,
       half_life_days,
       CASE WHEN eng_90d > 0 AND eng_30d IS NOT NULL
            THEN (eng_90d - eng_30d) / eng_90d >= $evergreen_share END AS is_evergreen,
       engagements >= greatest($viral_min::DOUBLE,
                               coalesce($viral_multiple * median_engagements, $viral_min::DOUBLE)) AS is_viral,
       comment_share                                                 AS substantive_comment_share,
       crawled_at,
       comment_sentiment
FROM joined
ORDER BY snapshot_date, note_id
