-- ingest_rejected: the rows of one kind that the ingest step quarantines (ingest_dedup.sql's status
-- 'quarantined': a rule failed, clean_<kind>.sql's reason), with their partition day, in raw order (the glue adds
-- each one's whole record as `raw`). Inputs: cleaned, fates (as ingest_kept.sql). Parameter: $kind.
SELECT c._seq, c._file, c._record, c.reason, f.snapshot_date
FROM cleaned c
JOIN fates f ON f.seq = c._seq AND f.kind = $kind AND NOT f.is_problem
WHERE f.status = 'quarantined'
ORDER BY c._seq
