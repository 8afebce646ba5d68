-- creator_state (docs/metrics.md, "Incremental state"; lib/schemas.py CREATOR_STATE)
--
-- The state of day D from the stored state of an earlier day (D - $shift; normally D - 1) and the cleaned
-- creators partitions of the days after it (D - $shift + 1 .. D; normally D alone): one row per creator with a
-- snapshot in the trailing $days_kept (125) days.
--   user_id           the creator
--   nickname          the nickname of their latest snapshot (a newer snapshot replaces it, even by a null)
--   latest_sd         the day of their latest snapshot
--   followers_by_day  $days_kept values; element i (0-based; SQL lists count from 1) is the followers of the
--                     snapshot of day D - i: NULL = no snapshot that day, -1 = a snapshot whose follower count is
--                     null. Every creator look-up of the metrics (latest snapshot, the snapshot nearest to a day
--                     within 3 days, consecutive snapshots for follower_spike) is an index into it.
-- One step shifts the previous state's list by $shift days (what was day D - shift - j is now element
-- shift + j), puts the new days' snapshots at elements 0 .. shift - 1 and drops what fell out of the window; a
-- creator with no snapshot left is dropped. A daily run steps one day at a time; the first state of a
-- warehouse (no stored state of the day before) is one step from an empty state over the whole window
-- ($shift = $days_kept).
--
-- Inputs (views; kol_pipeline/lib/state/creator_state.py registers them):
--   prev_state(user_id, nickname, latest_sd, followers_by_day)   the state of D - $shift (may be empty)
--   creators(user_id, nickname, followers, crawled_at, snapshot_date)   cleaned creators partitions (the
--                                                                rows of D - $shift + 1 .. D are read)
-- Parameters: $day (DATE, D), $shift (INTEGER >= 1, days since the previous state's day),
--             $days_kept (INTEGER, 125: creator_scorecard looks back D - 124 .. D)

WITH
-- each new day's snapshot of each creator: the latest crawl of the day (a cleaned partition holds one already)
new_snapshots AS (
    SELECT user_id, nickname, ($day::DATE - snapshot_date)::INTEGER AS offset_,
           coalesce(followers::DOUBLE, -1) AS followers
    FROM creators
    WHERE user_id IS NOT NULL
      AND snapshot_date > $day::DATE - $shift::INTEGER AND snapshot_date <= $day::DATE
    QUALIFY row_number() OVER (PARTITION BY user_id, snapshot_date ORDER BY crawled_at DESC NULLS FIRST) = 1
),

-- per creator seen on the new days: the latest of those snapshots, and the new elements 0 .. shift - 1
new_by_creator AS (
    SELECT user_id,
           first(nickname ORDER BY offset_)             AS nickname,      -- of the latest new snapshot
           min(offset_)                                 AS latest_offset
    FROM new_snapshots
    GROUP BY user_id
),

new_elements AS (
    SELECT c.user_id, list(s.followers ORDER BY d.offset_) AS head   -- NULL where no snapshot that day
    FROM new_by_creator c
    CROSS JOIN range(least($shift::INTEGER, $days_kept::INTEGER)) AS d(offset_)
    LEFT JOIN new_snapshots s ON s.user_id = c.user_id AND s.offset_ = d.offset_
    GROUP BY c.user_id
),

stepped AS (
    SELECT coalesce(t.user_id, p.user_id)                                      AS user_id,
           CASE WHEN t.user_id IS NOT NULL THEN t.nickname ELSE p.nickname END AS nickname,
           CASE WHEN t.user_id IS NOT NULL THEN ($day::DATE - t.latest_offset)::TIMESTAMP
                ELSE p.latest_sd END                                           AS latest_sd,
           -- elements 0 .. shift - 1: the new days (NULLs when none); then the previous state's elements
           -- 0 .. days_kept - shift - 1, now shift days older; padded with NULLs to days_kept
           list_resize(
               list_concat(
                   coalesce(e.head, list_resize([]::DOUBLE[], least($shift::INTEGER, $days_kept::INTEGER))),
                   coalesce(p.followers_by_day[1 : greatest($days_kept::INTEGER - $shift::INTEGER, 0)], [])
               ),
               $days_kept::INTEGER
           )::DOUBLE[]                                                         AS followers_by_day
    FROM prev_state p
    FULL OUTER JOIN new_by_creator t ON t.user_id = p.user_id
    LEFT JOIN new_elements e ON e.user_id = t.user_id
)

SELECT user_id, nickname, latest_sd, followers_by_day
FROM stepped
WHERE list_count(followers_by_day) > 0   -- some snapshot (or null-count snapshot) left in the window
ORDER BY user_id
