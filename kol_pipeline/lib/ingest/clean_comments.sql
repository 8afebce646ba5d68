-- clean_comments: MediaCrawler comment records (the raw relation, lib/ingest/raw.py) -> cleaned comment rows with
-- the first failing rule as `reason` (docs/ingestion.md "Values", "Quarantine reasons"; macros: ingest_macros.sql).
-- Inputs: raw (_file, _record, one JSON column per field, _hint, _seq).
-- Params: $now_limit (TIMESTAMPTZ); the lexicon's lists and limits of the comment classes and the sentiment
--   (lib/ingest/comments.params, sentiment.params: the macros of comment_text.sql and sentiment.sql).
-- Columns:
--   comment_id, note_id    the ids, stripped; user_id as crawled
--   parent_comment_id      stripped; NULL when absent, '', '0', 'None' or 'null' (a top-level comment)
--   content                the text ('' when absent)
--   created_at             create_time (epoch ms or s); crawled_at: last_modify_ts
--   like_count, sub_comment_count   py_count rules, absent/null/'' meaning 0
--   comment_class          comment_text.sql's comment_class of the content; is_substantive: not low_effort
--   sentiment              sentiment.sql's comment_sentiment of the content
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
    -- each field as Python's str() of it (NULL: absent, null or NaN), computed once; an absent, null or ''
    -- like_count / sub_comment_count is '0'
    SELECT _seq, _file, _record, _hint, comment_id AS comment_id_j, note_id AS note_id_j, last_modify_ts AS crawl_j,
           create_time AS created_j, like_count AS likes_j, sub_comment_count AS subs_j,
           py_strip(py_str(comment_id)) AS comment_id, py_strip(py_str(note_id)) AS note_id,
           py_str(user_id) AS user_id, py_strip(py_str(parent_comment_id)) AS parent_s, py_str(content) AS content_s,
           py_str(last_modify_ts) AS crawl_s, py_str(create_time) AS created_s,
           coalesce(nullif(py_str(like_count), ''), '0') AS likes_s,
           coalesce(nullif(py_str(sub_comment_count), ''), '0') AS subs_s
    FROM raw
), w AS (
    SELECT *, epoch_num(crawl_s) AS crawl_n, epoch_num(created_s) AS created_n, count_parts(likes_s) AS likes_p,
           count_parts(subs_s) AS subs_p
    FROM v
), x AS (
    SELECT *, epoch_ts(crawl_s, crawl_n) AS crawled_at, epoch_ts(created_s, created_n) AS created_at FROM w
), p AS (
    SELECT _seq, _file, _record, _hint, comment_id, note_id, user_id,
           CASE WHEN parent_s NOT IN ('', '0', 'None', 'null') THEN parent_s END AS parent_comment_id,
           coalesce(content_s, '') AS content,
           created_at,
           count_value(likes_s, likes_p) AS like_count,
           count_value(subs_s, subs_p) AS sub_comment_count,
           crawled_at,
           coalesce(
               'missing column(s) ' || (SELECT cols FROM missing),
               id_reason(comment_id_j, comment_id, 'comment_id'),
               id_reason(note_id_j, note_id, 'note_id'),
               epoch_reason(epoch_status(crawl_s, crawl_n), 'last_modify_ts', crawl_j),
               CASE WHEN crawled_at > $now_limit THEN 'last_modify_ts is in the future' END,
               epoch_reason(epoch_status(created_s, created_n), 'create_time', created_j),
               count_reason(count_status(likes_s, likes_p), 'like_count', likes_j),
               count_reason(count_status(subs_s, subs_p), 'sub_comment_count', subs_j),
               CASE WHEN created_at > crawled_at THEN 'create_time is after crawled_at' END
           ) AS reason
    FROM x
), t AS (
    SELECT *, lower(comment_stripped(content)) AS with_punct FROM p
), m AS (
    -- each computed once per row: a macro's argument is expanded at each of its uses
    SELECT *, comment_meaningful(with_punct) AS meaningful FROM t
), c AS (
    SELECT * EXCLUDE (with_punct, meaningful),
           comment_class(content, with_punct, meaningful, $class_purchase_intent,
                         $class_question, $class_experience, $class_low_effort_fillers, $tag_friend_max,
                         $low_effort_min) AS comment_class,
           comment_sentiment(content, $sentiment_negative, $sentiment_positive, $sentiment_negators,
                             $sentiment_not_negations) AS sentiment
    FROM m
)
SELECT comment_id, note_id, user_id, parent_comment_id, content, created_at, like_count, sub_comment_count,
       crawled_at, comment_class, comment_class <> 'low_effort' AS is_substantive, sentiment,
       _file, _record, _seq, _hint, shanghai_day(crawled_at) AS crawl_day, reason
FROM c
ORDER BY _seq
