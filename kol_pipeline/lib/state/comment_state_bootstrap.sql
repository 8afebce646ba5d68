-- comment_state_bootstrap: the comment state of $day built from the cleaned comments of the days before it
-- (at most keep_days + 1 = 122 days, so every comment has one life in them: the same rows as the delta step
-- of comment_state.sql folded over those days from no state). Used when the state of the day before a run
-- cannot be read from stored partitions (the first run, a gap); the run's first day is then stored as a base.
--
-- Inputs: boot_comments (cleaned comments with snapshot_date, seq = row position), norms (content -> norm_text,
-- sentiment).
-- Parameters: $day (DATE), $keep_days. Columns: those of comment_state.sql.
WITH c AS (
    SELECT d.snapshot_date, d.comment_id, d.note_id, d.is_substantive, d.crawled_at, d.seq, n.norm_text, n.sentiment,
           d.parent_comment_id IS NULL
               OR trim(CAST(d.parent_comment_id AS VARCHAR), E' \t\n\r\x0B\x0C') IN ('', '0', 'None', 'nan')
               AS top_level
    FROM boot_comments AS d LEFT JOIN norms AS n ON n.content IS NOT DISTINCT FROM d.content
    WHERE d.comment_id IS NOT NULL AND d.note_id IS NOT NULL
      AND d.snapshot_date BETWEEN CAST($day AS DATE) - $keep_days AND CAST($day AS DATE)
),
first_snapshot AS (  -- the latest snapshot of the first day it was seen
    SELECT * FROM c
    QUALIFY row_number() OVER (
        PARTITION BY comment_id ORDER BY snapshot_date ASC, crawled_at DESC NULLS FIRST, seq DESC
    ) = 1
),
seen AS (
    SELECT comment_id, max(snapshot_date) AS last_sd FROM c GROUP BY comment_id
),
latest_top AS (
    SELECT * FROM c WHERE top_level
    QUALIFY row_number() OVER (
        PARTITION BY comment_id ORDER BY snapshot_date DESC, crawled_at DESC NULLS FIRST, seq DESC
    ) = 1
)
SELECT
    f.comment_id,
    f.note_id,
    f.snapshot_date AS first_sd,
    s.last_sd,
    f.norm_text,
    f.top_level AND f.is_substantive IS NOT NULL AS top_first,
    f.top_level AND coalesce(f.is_substantive, false) AS top_sub_first,
    t.note_id AS lt_note_id,
    t.is_substantive AS lt_sub,
    t.sentiment AS lt_sent
FROM first_snapshot AS f
JOIN seen AS s ON s.comment_id = f.comment_id
LEFT JOIN latest_top AS t ON t.comment_id = f.comment_id
