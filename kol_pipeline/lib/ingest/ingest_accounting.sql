-- ingest_accounting: the row accounting of a run (docs/ingestion.md "Accounting"), per source file, kind and day:
-- read = kept + duplicates + quarantined. An unreadable record counts as read and quarantined; record 0 (a whole
-- unreadable file) is quarantined but counts no record.
-- Inputs: fates (ingest_rows' output). Columns: source_file, kind, snapshot_date, read, kept, duplicates,
-- quarantined.
SELECT _file AS source_file, kind, snapshot_date,
       sum(CASE WHEN is_problem AND _record <= 0 THEN 0 ELSE 1 END)::BIGINT AS "read",
       count(*) FILTER (WHERE status = 'kept')::BIGINT AS kept,
       count(*) FILTER (WHERE status = 'duplicate')::BIGINT AS duplicates,
       sum(CASE WHEN status = 'quarantined' AND NOT (is_problem AND _record <= 0) THEN 1 ELSE 0 END)::BIGINT
           AS quarantined
FROM fates
WHERE status IS NOT NULL AND snapshot_date IS NOT NULL
GROUP BY ALL
ORDER BY source_file, kind, snapshot_date
