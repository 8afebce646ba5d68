-- creator_comment_stats: per creator, the comments on their notes seen in the trailing $window_days days
-- (creator_scorecard's duplicate_comments flag, substantive_comment_share and comment_sentiment).
--
-- Inputs: owners (note_id, user_id: one owner per note, the notes of creator_scorecard's day) and the macro
-- comment_view (comment_view.sql). Parameters: $day (DATE), $window_days (90), $keep_days (121).
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
WITH cm AS (  -- the comments in the window on the creators' notes
    SELECT o.user_id, v.norm_text, v.top_first, v.top_sub_first, v.lt_sent
    FROM comment_view(CAST($day AS DATE), CAST($day AS DATE) - least($window_days - 1, $keep_days)) AS v
    JOIN owners AS o ON o.note_id = v.note_id
),
same_text AS (  -- per creator and non-empty normalized text: how many of their comments have it
    SELECT user_id, norm_text, count(*) AS comments FROM cm WHERE norm_text IS NOT NULL GROUP BY user_id, norm_text
),
duplicates AS (
    SELECT user_id, sum(comments) AS n_dup FROM same_text WHERE comments >= 2 GROUP BY user_id
),
per_creator AS (
    SELECT user_id,
           count(*) AS n_all,
           count(*) FILTER (WHERE top_first) AS n_top,
           count(*) FILTER (WHERE top_sub_first) AS n_top_sub,
           count(*) FILTER (WHERE lt_sent = 'positive') AS n_pos,
           count(*) FILTER (WHERE lt_sent = 'negative') AS n_neg
    FROM cm
    GROUP BY user_id
)
SELECT CAST($day AS DATE) AS snapshot_date,
       p.user_id,
       CAST(p.n_all AS DOUBLE) AS n_all,
       CAST(coalesce(d.n_dup, 0) AS DOUBLE) AS n_dup,
       CAST(p.n_top AS DOUBLE) AS n_top,
       CAST(p.n_top_sub AS DOUBLE) AS n_top_sub,
       CAST(p.n_pos AS DOUBLE) AS n_pos,
       CAST(p.n_neg AS DOUBLE) AS n_neg
FROM per_creator AS p LEFT JOIN duplicates AS d ON d.user_id = p.user_id
