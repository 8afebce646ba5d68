-- creator_state (docs/metrics.md, "Incremental state"; lib/schemas.py CREATOR_STATE)
--
-- The state of day D from the stored state of an earlier day (D - $shift; normally D - 1) and the cleaned
-- creators partition of D: one row per creator with a snapshot in the trailing $days_kept (125) days.
--   user_id           the creator
--   nickname          the nickname of their latest snapshot (a snapshot of D replaces it, even by a null)
--   latest_sd         the day of their latest snapshot
--   followers_by_day  $days_kept values; element i (0-based; SQL lists count from 1) is the followers of the
--                     snapshot of day D - i: NULL = no snapshot that day, -1 = a snapshot whose follower count is
--                     null. Every creator look-up of the metrics (latest snapshot, the snapshot nearest to a day
--                     within 3 days, consecutive snapshots for follower_spike) is an index into it.
-- One step shifts the previous state's list by $shift days (what was day D - shift - j is now element
-- shift + j), puts D's snapshot at element 0 and drops what fell out of the window; a creator with no
-- snapshot left is dropped.
--
-- Inputs (views; kol_pipeline/lib/queries/creator_state.py registers them):
--   prev_state(user_id, nickname, latest_sd, followers_by_day)   the state of D - $shift (may be empty)
--   creators(user_id, nickname, followers, crawled_at)           the cleaned creators partition of D
-- Parameters: $day (DATE, D), $shift (INTEGER, days since the previous state's day; >= $days_kept: none),
--             $days_kept (INTEGER, 125: creator_scorecard looks back D - 124 .. D)

WITH
-- D's snapshot of each creator: the latest crawl of the day (a cleaned partition holds one already)
today AS (
    SELECT user_id, nickname, coalesce(followers::DOUBLE, -1) AS followers
    FROM creators
    WHERE user_id IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY crawled_at DESC NULLS FIRST) = 1
),

stepped AS (
    SELECT coalesce(t.user_id, p.user_id)                                      AS user_id,
           CASE WHEN t.user_id IS NOT NULL THEN t.nickname ELSE p.nickname END AS nickname,
           CASE WHEN t.user_id IS NOT NULL THEN $day::DATE::TIMESTAMP ELSE p.latest_sd END AS latest_sd,
           [CASE
                WHEN i = 0 THEN t.followers                               -- D's own snapshot
                WHEN $shift::INTEGER > 0 AND i >= $shift::INTEGER         -- day D - i, as the previous state held it
                    THEN nullif(p.followers_by_day[i - $shift::INTEGER + 1], 'NaN'::DOUBLE)
            END
            FOR i IN range($days_kept::INTEGER)]::DOUBLE[]                     AS followers_by_day
    FROM prev_state p
    FULL OUTER JOIN today t ON t.user_id = p.user_id
)

SELECT user_id, nickname, latest_sd, followers_by_day
FROM stepped
WHERE list_count(followers_by_day) > 0   -- some snapshot (or null-count snapshot) left in the window
ORDER BY user_id
