-- brand_audience_affinity_pairs: per day D of the run, every comment of D's window (snapshot_date in
-- D - ($window_days - 1) .. D) as the pair (author X of the commented note, commenter), with
-- bucket = hash(X) % $buckets. A note's author is its latest crawl's (`latest`); a comment on a note never crawled
-- in the notes window has no known author and counts for nobody; a creator's comments under their own notes are
-- set aside (a creator replying under their own notes is not their audience). One row per comment: a commenter is
-- counted once per creator by brand_audience_affinity.sql (DISTINCT), a bucket at a time.
--
-- Written once per run as a Parquet file per bucket (brand_audience_affinity.py): every count of a row of the mart
-- is about one creator X, so a bucket of creators gives X's rows whole, and each bucket reads only its own pairs
-- (the former per-bucket query joined the whole window again for each bucket: 610 s at the 1M benchmark, five
-- buckets of 180 M comments; BENCHMARKS.md). The hash splits the work; it is never a key.
--
-- Inputs: comments(note_id, user_id, snapshot_date): the cleaned comments of the run's 90-day window;
--         latest(day, note_id, crawl: author, brands, published_day): brand_audience_affinity_latest.sql.
-- Parameters: $days (DATE[], the run's days), $window_days (90), $buckets (>= 1).
WITH run_days AS (
    SELECT DISTINCT unnest($days::DATE[]) AS day
)
SELECT d.day, l.crawl.author AS author, c.user_id AS commenter,
       hash(l.crawl.author) % $buckets::UBIGINT AS bucket
FROM run_days d
JOIN comments c ON c.snapshot_date BETWEEN d.day - ($window_days::INTEGER - 1) AND d.day
JOIN latest l ON l.day = d.day AND l.note_id = c.note_id
WHERE c.note_id IS NOT NULL AND c.user_id IS NOT NULL AND trim(c.user_id) <> ''
  AND c.user_id <> l.crawl.author
