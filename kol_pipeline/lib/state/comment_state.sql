-- comment_state: the delta of day $day, one row per comment seen that day (a comments row with a comment_id and
-- a note_id), with its state as of $day, from the comment state of the day before (comment_view, see
-- comment_view.sql) and the day's cleaned comments.
--
-- Inputs: day_comments (the day's cleaned comments: comment_id, note_id, parent_comment_id, content,
--   is_substantive, crawled_at, seq = the row's position in the partition), norms (content -> norm_text: the
--   normalized text of each distinct content, lib/comments.normalize_comment, null when empty; and sentiment:
--   positive|negative|neutral, lib/ingest/sentiment.sql), and the macro
--   comment_view over the stored partitions before $day. Parameters: $day (DATE), $keep_days (121).
--
-- Columns (docs/metrics.md "How comment_state is stored"):
--   comment_id
--   note_id        the note of the comment's first snapshot (in this life)
--   first_sd       the day of its first snapshot: $day for a comment not in the state of the day before
--   last_sd        $day
--   norm_text      normalized text of the first snapshot (null when empty: never a duplicate)
--   top_first      the first snapshot is top-level (parent_comment_id null, '', '0') with a known is_substantive
--   top_sub_first  ... and substantive
--   lt_note_id     the note of its latest top-level snapshot (null: never top-level in this life)
--   lt_sub         is_substantive of that snapshot
--   lt_sent        the sentiment of that snapshot (comments.sentiment: the macro of lib/ingest/sentiment.sql over its
--                  content, in norms), what the comment sentiment (NSR) of note_metrics and creator_scorecard counts
-- "The first snapshot" of a day is the comment's latest crawl that day (crawled_at, a null crawl time last as
-- in a sort, then row order). A comment stays in the state 122 days after its last sighting (keep_days + 1);
-- seen again within them it continues (first-snapshot fields kept), later it starts anew.
WITH c AS (
    SELECT d.comment_id, d.note_id, d.is_substantive, d.crawled_at, d.seq, n.norm_text, n.sentiment,
           d.parent_comment_id IS NULL
               OR trim(CAST(d.parent_comment_id AS VARCHAR), E' \t\n\r\x0B\x0C') IN ('', '0', 'None', 'nan')
               AS top_level
    FROM day_comments AS d LEFT JOIN norms AS n ON n.content IS NOT DISTINCT FROM d.content
    WHERE d.comment_id IS NOT NULL AND d.note_id IS NOT NULL
),
latest AS (  -- each comment's latest snapshot of the day
    SELECT * FROM c
    QUALIFY row_number() OVER (PARTITION BY comment_id ORDER BY crawled_at DESC NULLS FIRST, seq DESC) = 1
),
latest_top AS (  -- its latest top-level snapshot of the day
    SELECT * FROM c WHERE top_level
    QUALIFY row_number() OVER (PARTITION BY comment_id ORDER BY crawled_at DESC NULLS FIRST, seq DESC) = 1
),
prev AS (  -- the state of the day before (comment_view), of the day's comments only: their rows the view reads,
           -- and of a comment with several, the one of the latest partition (the view's choice)
    SELECT r.* FROM comment_view_read(CAST($day AS DATE) - 1, CAST($day AS DATE) - 1 - $keep_days) AS r
    SEMI JOIN latest ON latest.comment_id = r.comment_id
    QUALIFY row_number() OVER (PARTITION BY r.comment_id ORDER BY r.snapshot_date DESC) = 1
)
SELECT
    l.comment_id,
    CASE WHEN p.comment_id IS NULL THEN l.note_id ELSE p.note_id END AS note_id,
    CASE WHEN p.comment_id IS NULL THEN CAST($day AS DATE) ELSE p.first_sd END AS first_sd,
    CAST($day AS DATE) AS last_sd,
    CASE WHEN p.comment_id IS NULL THEN l.norm_text ELSE p.norm_text END AS norm_text,
    CASE WHEN p.comment_id IS NULL THEN l.top_level AND l.is_substantive IS NOT NULL ELSE p.top_first END
        AS top_first,
    CASE WHEN p.comment_id IS NULL THEN l.top_level AND coalesce(l.is_substantive, false) ELSE p.top_sub_first END
        AS top_sub_first,
    CASE WHEN t.comment_id IS NULL THEN p.lt_note_id ELSE t.note_id END AS lt_note_id,
    CASE WHEN t.comment_id IS NULL THEN p.lt_sub ELSE t.is_substantive END AS lt_sub,
    CASE WHEN t.comment_id IS NULL THEN p.lt_sent ELSE t.sentiment END AS lt_sent
FROM latest AS l
LEFT JOIN prev AS p ON p.comment_id = l.comment_id
LEFT JOIN latest_top AS t ON t.comment_id = l.comment_id
