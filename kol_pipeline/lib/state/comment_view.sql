-- comment_view: the comment state of a day, as a view over the stored comment_state partitions.
--
-- Defines two table macros over the view `comment_state` (the stored partitions, with snapshot_date and base;
-- lib/state/comment_view.py registers it before running this file):
--
-- comment_view(day, since): one row per comment_id of the comment state of `day` last seen on or after `since`
--   (since = day - 121 for the whole state: every comment seen in the trailing 122 days; creator_scorecard asks
--   for its 90-day window). A partition of day P holds rows last seen on or before P: a delta the comments seen
--   on P, a base the whole state of P. So the rows are read from the partitions of `since` .. `day`, from the
--   latest base among them on, and of a comment with several rows (seen again on a later day: its row there
--   has first_sd < last_sd and continues the earlier one) the row of the latest partition is its state.
--   Within 122 days a comment has rows of one life only (a comment not seen for 122 days is dropped, and a
--   later sighting starts a new life, whose first row is then more than 122 days after the former last one).
--   Columns: comment_id, note_id, first_sd, last_sd, norm_text, top_first, top_sub_first, lt_note_id, lt_sub,
--   lt_sent (null in partitions stored before it existed: such a comment counts in no sentiment).
--
-- comment_view_cost(day, since): rows_read (the rows comment_view reads) and superseded (rows read that a later
--   row of the same comment replaces): comment_state stores a base when superseded > rows_read - superseded.
CREATE OR REPLACE TEMP MACRO comment_view_read(day, since) AS TABLE
    WITH win AS NOT MATERIALIZED (
        SELECT * FROM comment_state WHERE snapshot_date BETWEEN since AND day
    ),
    start AS (
        SELECT coalesce((SELECT max(snapshot_date) FILTER (WHERE base) FROM win), since) AS first_read
    )
    SELECT win.*, win.snapshot_date > start.first_read AND win.first_sd < win.last_sd AS continues
    FROM win, start
    WHERE win.snapshot_date >= start.first_read AND win.last_sd >= since;

CREATE OR REPLACE TEMP MACRO comment_view(day, since) AS TABLE
    WITH rd AS NOT MATERIALIZED (
        SELECT * FROM comment_view_read(day, since)
    ),
    latest AS (  -- comments seen again after their first partition read: their latest partition
        SELECT comment_id, max(snapshot_date) AS latest_sd FROM rd WHERE continues GROUP BY comment_id
    )
    SELECT rd.comment_id, rd.note_id, rd.first_sd, rd.last_sd, rd.norm_text, rd.top_first, rd.top_sub_first,
           rd.lt_note_id, rd.lt_sub, rd.lt_sent
    FROM rd LEFT JOIN latest ON latest.comment_id = rd.comment_id
    WHERE latest.latest_sd IS NULL OR rd.snapshot_date >= latest.latest_sd;

CREATE OR REPLACE TEMP MACRO comment_view_cost(day, since) AS TABLE
    SELECT count(*) AS rows_read, count(*) FILTER (WHERE continues) AS superseded
    FROM comment_view_read(day, since);
