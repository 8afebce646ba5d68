-- brand_audience_affinity_audience: per day D of the run, brand B and commenter U who commented, in D's window
-- (comments with snapshot_date in D - ($window_days - 1) .. D), on a note listing B written by someone else than U:
--   authors      how many distinct authors' notes listing B they commented on
--   one_author   one of those authors (the smallest id)
-- "Commented on a note listing B written by another author than creator X" is then: authors >= 2, or one_author
-- is not X (brand_audience_affinity.sql, `shared`): no pairwise join of commenters and authors. A user commenting
-- on a B note they wrote themself is not B's audience. Computed once per run (every bucket of creators reads it).
--
-- Inputs: comments(note_id, user_id, snapshot_date): the cleaned comments of the run's 90-day window;
--         note_brands(day, note_id, author, published_day, brand): brand_audience_affinity_note_brands.sql.
-- Parameters: $days (DATE[], the run's days), $window_days (90).
WITH
run_days AS (
    SELECT DISTINCT unnest($days::DATE[]) AS day
),

-- the comments of D's window on notes that list a brand, with the note's author (not the commenter)
audience AS (
    SELECT DISTINCT d.day, nb.brand, nb.author, c.user_id AS commenter
    FROM run_days d
    JOIN comments c ON c.snapshot_date BETWEEN d.day - ($window_days::INTEGER - 1) AND d.day
    JOIN note_brands nb ON nb.day = d.day AND nb.note_id = c.note_id
    WHERE c.note_id IS NOT NULL AND c.user_id IS NOT NULL AND trim(c.user_id) <> ''
      AND c.user_id <> nb.author
)

SELECT day, brand, commenter, count(*) AS authors, min(author) AS one_author
FROM audience
GROUP BY day, brand, commenter
