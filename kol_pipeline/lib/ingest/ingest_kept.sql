-- ingest_kept: the rows of one kind that the ingest step keeps (ingest_dedup.sql's status 'kept': the latest
-- crawl of an id on its day), with their partition day and source file, in the order the warehouse stores them:
-- by id, then day. Inputs: cleaned (clean_<kind>.sql's rows, _seq = the row's position among the kind's raw
-- rows), fates (ingest_dedup.sql; its seq is that _seq for the rows that are not problems). Parameter: $kind.
SELECT c.* EXCLUDE (_seq, _file, _record, _hint, crawl_day, reason), f.snapshot_date, c._file AS source_file
FROM cleaned c
JOIN fates f ON f.seq = c._seq AND f.kind = $kind AND NOT f.is_problem
WHERE f.status = 'kept'
ORDER BY f.id, f.snapshot_date
