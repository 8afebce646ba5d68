-- ingest_dedup: the fate of each row of a run (docs/ingestion.md "Dedup rule"): one row per (id, day) per kind,
-- the latest crawl (the latest crawled_at, then the later file name, then the later record, then the later row:
-- the last row in the stable order by crawled_at (nulls last), _file, _record); the rows with a reason (and the
-- unreadable records) are quarantined and displace nothing.
-- Inputs: dated (kind, kind_pos, is_problem, seq, _file, _record, snapshot_date, undated, id, crawled_at, bad,
--   in_range: ingest_days' output, or any rows of that shape).
-- Columns: dated's, in its order, and
--   status   'quarantined', 'kept', 'duplicate'; NULL: out of the run's range (not this run's business)
SELECT *,
       CASE WHEN NOT in_range THEN NULL
            WHEN bad THEN 'quarantined'
            WHEN row_number() OVER (
                     PARTITION BY kind, id, snapshot_date, in_range AND NOT bad
                     ORDER BY crawled_at DESC NULLS FIRST, _file DESC, _record DESC, seq DESC) = 1 THEN 'kept'
            ELSE 'duplicate' END AS status
FROM dated
ORDER BY is_problem, kind_pos, seq
