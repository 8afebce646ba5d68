-- ingest_days: the partition rule (docs/ingestion.md "Partition rule") over every cleaned row and every unreadable
-- record of a run: one row each, with its day and whether it is in the run's range (ingest_dedup.sql then decides
-- each in-range row's fate).
-- Inputs: rows (kind, kind_pos, _seq, _file, _record, _hint, crawl_day, id, crawled_at, bad: a reason is set),
--   problems (kind, _pseq, _file, record_number, _hint: the file's fallback day, or NULL).
-- Params: $start, $end (DATE or NULL: the run's days).
-- Columns:
--   kind, is_problem, seq (_seq of a row, _pseq of a problem), _file, _record
--   snapshot_date  a row's crawl day (Asia/Shanghai); without a usable crawl time: its batch's fallback day, else
--                  the file name's date, else the file's most common crawl day (the earliest on a tie), else the
--                  run's first day (else the earliest day seen); a problem: its file's fallback day, else the file
--                  name's date, else the most common day of the file's rows, else the run's first day
--   undated        the day came from the run's first day / the earliest day seen (a note for the file)
--   id, crawled_at, bad  as given (NULL for a problem; a problem is bad)
--   in_range       the day is within [$start, $end] (no bound at all: every row)
WITH file_mode AS (
    SELECT kind, _file, first(crawl_day ORDER BY n DESC, crawl_day) AS day
    FROM (SELECT kind, _file, crawl_day, count(*) AS n FROM rows WHERE crawl_day IS NOT NULL GROUP BY ALL)
    GROUP BY ALL
), d1 AS (
    SELECT r.*, coalesce(r.crawl_day, r._hint, name_day(r._file), m.day) AS day1
    FROM rows r LEFT JOIN file_mode m USING (kind, _file)
), fill AS (
    SELECT coalesce($start, (SELECT min(day1) FROM d1)) AS day
), dated AS (
    SELECT d1.*, coalesce(day1, fill.day) AS snapshot_date, day1 IS NULL AND fill.day IS NOT NULL AS undated
    FROM d1, fill
), problem_mode AS (
    SELECT _file, first(snapshot_date ORDER BY n DESC, snapshot_date) AS day
    FROM (SELECT _file, snapshot_date, count(*) AS n FROM dated WHERE snapshot_date IS NOT NULL GROUP BY ALL)
    GROUP BY ALL
), problem_days AS (
    SELECT p.*, coalesce(p._hint, name_day(p._file), m.day) AS day1
    FROM problems p LEFT JOIN problem_mode m USING (_file)
)
SELECT kind, kind_pos, FALSE AS is_problem, _seq AS seq, _file, _record, snapshot_date, undated, id, crawled_at, bad,
       in_range(snapshot_date, $start, $end) AS in_range
FROM dated
UNION ALL
SELECT kind, 3 AS kind_pos, TRUE AS is_problem, _pseq AS seq, _file, record_number AS _record,
       coalesce(day1, $start) AS snapshot_date, day1 IS NULL AS undated, NULL AS id, NULL AS crawled_at, TRUE AS bad,
       in_range(coalesce(day1, $start), $start, $end) AS in_range
FROM problem_days
ORDER BY is_problem, kind_pos, seq
