-- clean_comments: MediaCrawler comment records (the raw relation, lib/ingest/raw.py) -> cleaned comment rows with
-- the first failing rule as `reason` (docs/ingestion.md "Values", "Quarantine reasons"; macros: ingest_macros.sql).
-- Inputs: raw (_file, _record, one JSON column per field, _hint, _seq).
-- Params: $now_limit (TIMESTAMPTZ).
-- Columns:
--   comment_id, note_id    the ids, stripped; user_id as crawled
--   parent_comment_id      stripped; NULL when absent, '', '0', 'None' or 'null' (a top-level comment)
--   content                the text ('' when absent)
--   created_at             create_time (epoch ms or s); crawled_at: last_modify_ts
--   like_count, sub_comment_count   py_count rules, absent/null/'' meaning 0
--   (comment_class and is_substantive are added by the glue, lib/ingest/comments.py)
--   _file, _record, _seq, _hint, crawl_day (Asia/Shanghai day of crawled_at), reason
WITH present AS (
    SELECT count(comment_id) > 0 AS comment_id, count(note_id) > 0 AS note_id, count(content) > 0 AS content,
           count(create_time) > 0 AS create_time, count(last_modify_ts) > 0 AS last_modify_ts
    FROM raw
), missing AS (
    SELECT nullif(concat_ws(', ',
        CASE WHEN NOT comment_id THEN 'comment_id' END, CASE WHEN NOT note_id THEN 'note_id' END,
        CASE WHEN NOT content THEN 'content' END, CASE WHEN NOT create_time THEN 'create_time' END,
        CASE WHEN NOT last_modify_ts THEN 'last_modify_ts' END
    ), '') AS cols
    FROM present
), v AS (
    SELECT r.*, py_str(last_modify_ts) AS crawl_s, py_str(create_time) AS created_s,
           CASE WHEN py_str(like_count) IS NULL OR py_str(like_count) = '' THEN '0' ELSE py_str(like_count) END AS likes_s,
           CASE WHEN py_str(sub_comment_count) IS NULL OR py_str(sub_comment_count) = '' THEN '0'
                ELSE py_str(sub_comment_count) END AS subs_s
    FROM raw r
), p AS (
    SELECT _seq, _file, _record, _hint,
           py_strip(py_str(comment_id)) AS comment_id,
           py_strip(py_str(note_id)) AS note_id,
           py_str(user_id) AS user_id,
           CASE WHEN py_strip(py_str(parent_comment_id)) NOT IN ('', '0', 'None', 'null')
                THEN py_strip(py_str(parent_comment_id)) END AS parent_comment_id,
           coalesce(py_str(content), '') AS content,
           epoch_ts(created_s) AS created_at,
           count_value(likes_s) AS like_count,
           count_value(subs_s) AS sub_comment_count,
           epoch_ts(crawl_s) AS crawled_at,
           coalesce(
               'missing column(s) ' || (SELECT cols FROM missing),
               id_reason(comment_id, 'comment_id'),
               id_reason(note_id, 'note_id'),
               epoch_reason(epoch_status(crawl_s), 'last_modify_ts', last_modify_ts),
               CASE WHEN epoch_ts(crawl_s) > $now_limit THEN 'last_modify_ts is in the future' END,
               epoch_reason(epoch_status(created_s), 'create_time', create_time),
               count_reason(count_status(likes_s), 'like_count', like_count),
               count_reason(count_status(subs_s), 'sub_comment_count', sub_comment_count),
               CASE WHEN epoch_ts(created_s) > epoch_ts(crawl_s) THEN 'create_time is after crawled_at' END
           ) AS reason
    FROM v
)
SELECT comment_id, note_id, user_id, parent_comment_id, content, created_at, like_count, sub_comment_count,
       crawled_at, _file, _record, _seq, _hint, shanghai_day(crawled_at) AS crawl_day, reason
FROM p
ORDER BY _seq
