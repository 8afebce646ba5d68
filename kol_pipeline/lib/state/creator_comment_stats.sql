-- creator_comment_stats: per creator, the comments on their notes seen in the trailing $window_days days
-- (creator_scorecard's duplicate_comments flag, substantive_comment_share and comment_sentiment).
--
-- Steps (lib/state/comment_view.py creator_comment_stats):
--   1. creator_comment_stats_rows.sql: a row per comment of the window (comment_view of $day, last seen on or
--      after $day - ($window_days - 1), within the comment state's 122 days) on a note of owners (note_id,
--      user_id: the notes of creator_scorecard's day), with the note's creator; a comment belongs to the note of
--      its first snapshot. A window whose view reads more than STATS_BUCKET_ROWS rows is written once by DuckDB
--      as a Parquet file per bucket of creators (hash(user_id) % buckets), and this query counts a bucket at a
--      time: a creator's comments are all in its bucket, so the counts are the same.
--   2. this query, over those rows (input comment_rows: user_id, norm_text, top_first, top_sub_first, lt_sent).
-- Parameters: $day (DATE).
-- Columns (DOUBLE counts):
--   snapshot_date  $day
--   user_id
--   n_all          comments on the creator's notes
--   n_dup          of them, comments whose normalized text (non-empty) another of them shares
--   n_top          of them, comments whose first snapshot is top-level with a known is_substantive
--   n_top_sub      ... and substantive
--   n_pos, n_neg   of them, comments seen top-level whose latest top-level snapshot's sentiment (lt_sent,
--                  comments.sentiment) is positive / negative: the creator's NSR (CONTRACT.md "Finding the right
--                  creators": top-level comments with snapshot_date in D-89 .. D on the creator's notes)
-- One aggregate over the rows, per creator and normalized text (the texts without one: one group per creator),
-- then one per creator: the rows are not held for a second pass. At the 1M benchmark (180 M comments in the
-- window) the former form, a per-text and a per-creator aggregate over one CTE, ran out of DuckDB's 1 GB even on
-- one thread (BENCHMARKS.md, twenty-fifth session).
WITH same_text AS (  -- per creator and normalized text: how many of their comments in the window have it, of what kind
    SELECT user_id,
           norm_text,
           count(*) AS comments,
           count(*) FILTER (WHERE top_first) AS n_top,
           count(*) FILTER (WHERE top_sub_first) AS n_top_sub,
           count(*) FILTER (WHERE lt_sent = 'positive') AS n_pos,
           count(*) FILTER (WHERE lt_sent = 'negative') AS n_neg
    FROM comment_rows
    GROUP BY user_id, norm_text
)
SELECT CAST($day AS DATE) AS snapshot_date,
       user_id,
       CAST(sum(comments) AS DOUBLE) AS n_all,
       CAST(coalesce(sum(comments) FILTER (WHERE norm_text IS NOT NULL AND comments >= 2), 0) AS DOUBLE) AS n_dup,
       CAST(sum(n_top) AS DOUBLE) AS n_top,
       CAST(sum(n_top_sub) AS DOUBLE) AS n_top_sub,
       CAST(sum(n_pos) AS DOUBLE) AS n_pos,
       CAST(sum(n_neg) AS DOUBLE) AS n_neg
FROM same_text
GROUP BY user_id
