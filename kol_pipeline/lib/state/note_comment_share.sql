-- note_comment_share: for each note asked for on $day, the share of substantive comments among its top-level
-- comments seen so far (note_metrics' substantive_comment_share), and the net sentiment ratio of those comments
-- (note_metrics' comment_sentiment, CONTRACT.md "Finding the right creators").
--
-- Inputs: notes (note_id: the notes note_metrics asks for on $day) and the macro comment_view (comment_view.sql,
-- over the stored comment_state partitions). Parameters: $day (DATE), $keep_days (121), $min_sentiment_comments
-- (3).
-- Columns:
--   snapshot_date    $day
--   note_id
--   comment_share    of the comments in the comment state of $day (seen in the trailing 122 days) whose latest
--                    top-level snapshot is on this note with a known is_substantive: the share that is
--                    substantive; null when there is none
--   comment_sentiment  NSR = (positive - negative) / (positive + negative) over the comments in the comment state
--                    of $day whose latest top-level snapshot is on this note, by that snapshot's sentiment (lt_sent;
--                    comments.sentiment); null when positive + negative < $min_sentiment_comments
WITH asked AS (
    SELECT DISTINCT note_id FROM notes
),
counts AS (  -- one pass over the view: a comment with an unknown is_substantive / sentiment counts in neither
    SELECT v.lt_note_id AS note_id,
           count(*) FILTER (WHERE v.lt_sub IS NOT NULL) AS top_level_comments,
           count(*) FILTER (WHERE v.lt_sub) AS substantive,
           count(*) FILTER (WHERE v.lt_sent = 'positive') AS positive,
           count(*) FILTER (WHERE v.lt_sent = 'negative') AS negative
    FROM comment_view(CAST($day AS DATE), CAST($day AS DATE) - $keep_days) AS v
    SEMI JOIN asked ON asked.note_id = v.lt_note_id
    GROUP BY v.lt_note_id
)
SELECT CAST($day AS DATE) AS snapshot_date,
       asked.note_id,
       CASE WHEN counts.top_level_comments > 0
            THEN CAST(counts.substantive AS DOUBLE) / counts.top_level_comments END AS comment_share,
       CASE WHEN counts.positive + counts.negative >= greatest($min_sentiment_comments, 1)
            THEN CAST(counts.positive - counts.negative AS DOUBLE) / (counts.positive + counts.negative) END
           AS comment_sentiment
FROM asked LEFT JOIN counts ON counts.note_id = asked.note_id
