-- creator_comment_stats: per creator, the comments on their notes seen in the trailing $window_days days
-- (creator_scorecard's duplicate_comments flag and substantive_comment_share).
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
WITH cm AS (
    SELECT o.user_id, v.norm_text, v.top_first, v.top_sub_first,
           count(*) OVER (PARTITION BY o.user_id, v.norm_text) AS same_text
    FROM comment_view(CAST($day AS DATE), CAST($day AS DATE) - least($window_days - 1, $keep_days)) AS v
    JOIN owners AS o ON o.note_id = v.note_id
)
SELECT CAST($day AS DATE) AS snapshot_date,
       user_id,
       CAST(count(*) AS DOUBLE) AS n_all,
       CAST(count(*) FILTER (WHERE norm_text IS NOT NULL AND same_text >= 2) AS DOUBLE) AS n_dup,
       CAST(count(*) FILTER (WHERE top_first) AS DOUBLE) AS n_top,
       CAST(count(*) FILTER (WHERE top_sub_first) AS DOUBLE) AS n_top_sub
FROM cm
GROUP BY user_id
