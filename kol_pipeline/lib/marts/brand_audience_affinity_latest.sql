-- brand_audience_affinity_latest: per day D of the run, each note's latest crawl on or before D among the crawls
-- of D - $note_window .. D: its author, brands and publish day (Asia/Shanghai) as `crawl`; of two crawls the same
-- day, the later crawl time, and a null crawl time counts as the latest. The `latest` input of
-- brand_audience_affinity.sql, computed once for all of its buckets of creators (brand_audience_affinity.py).
--
-- Input: notes(note_id, user_id, brands, published_at, crawled_at, snapshot_date), the notes window's crawls.
-- Parameters: $days (DATE[], the run's days), $note_window (121).
WITH run_days AS (
    SELECT DISTINCT unnest($days::DATE[]) AS day
)
SELECT d.day, n.note_id,
       arg_max(struct_pack(author := n.user_id, brands := n.brands,
                           published_day := timezone('Asia/Shanghai', n.published_at)::DATE),
               struct_pack(sd := n.snapshot_date, at := coalesce(n.crawled_at, 'infinity'::TIMESTAMPTZ))) AS crawl
FROM run_days d
JOIN notes n ON n.snapshot_date BETWEEN d.day - $note_window::INTEGER AND d.day
WHERE n.note_id IS NOT NULL AND n.user_id IS NOT NULL
GROUP BY d.day, n.note_id
