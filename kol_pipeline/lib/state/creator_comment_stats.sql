-- creator_comment_stats: per creator, the comments on their notes seen in the trailing $window_days days
-- (creator_scorecard's duplicate_comments flag, substantive_comment_share and comment_sentiment).
--
-- Inputs: owners (note_id, user_id: one owner per note, the notes of creator_scorecard's day) and the macro
-- comment_view (comment_view.sql). Parameters: $day (DATE), $window_days (90), $keep_days (121), $buckets and
-- $bucket: the creators whose hash(user_id) % $buckets = $bucket (a large window is counted a bucket of creators
-- at a time, lib/state/comment_view.py creator_comment_stats; the hash only splits the work: every count is of
-- the real ids and texts).
-- A comment belongs to the note of its first snapshot; it counts when last seen on or after
-- $day - ($window_days - 1) (and within the comment state's 122 days).
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
-- One aggregate over the view's rows, per creator and normalized text (the texts without one: one group per
-- creator), then one per creator: the rows are not held for a second pass. At the 1M benchmark (180 M comments
-- in the window) the former form, a per-text and a per-creator aggregate over one CTE, ran out of DuckDB's 1 GB
-- even on one thread (BENCHMARKS.md, twenty-fifth session).
WITH bucket_owners AS (
    SELECT note_id, user_id FROM owners WHERE hash(user_id) % $buckets = $bucket
),
same_text AS (  -- per creator and normalized text: how many of their comments in the window have it, of what kind
    SELECT o.user_id,
           v.norm_text,
           count(*) AS comments,
           count(*) FILTER (WHERE v.top_first) AS n_top,
           count(*) FILTER (WHERE v.top_sub_first) AS n_top_sub,
           count(*) FILTER (WHERE v.lt_sent = 'positive') AS n_pos,
           count(*) FILTER (WHERE v.lt_sent = 'negative') AS n_neg
    FROM comment_view(CAST($day AS DATE), CAST($day AS DATE) - least($window_days - 1, $keep_days)) AS v
    JOIN bucket_owners AS o ON o.note_id = v.note_id
    GROUP BY o.user_id, v.norm_text
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
