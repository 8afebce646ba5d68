-- creator_comment_stats_rows: the comments creator_comment_stats counts, one row per comment of the window with
-- the creator of its note (the first step of creator_comment_stats.sql, which lists the steps).
--
-- Inputs: owners (note_id, user_id: one owner per note, the notes of creator_scorecard's day) and the macro
-- comment_view (comment_view.sql). Parameters: $day (DATE), $window_days (90), $keep_days (121), $buckets.
-- A comment belongs to the note of its first snapshot; it counts when last seen on or after
-- $day - ($window_days - 1) (and within the comment state's 122 days).
-- Columns: user_id (the note's creator), norm_text, top_first, top_sub_first, lt_sent (comment_view's), and
-- bucket = hash(user_id) % $buckets: a large window is written once as a file per bucket of creators, and the
-- counts read a bucket at a time (lib/state/comment_view.py creator_comment_stats; the hash only splits the work:
-- every count is of the real ids and texts, and all of a creator's comments are in one bucket).
SELECT o.user_id,
       v.norm_text,
       v.top_first,
       v.top_sub_first,
       v.lt_sent,
       hash(o.user_id) % $buckets AS bucket
FROM comment_view(CAST($day AS DATE), CAST($day AS DATE) - least($window_days - 1, $keep_days)) AS v
JOIN owners AS o ON o.note_id = v.note_id
