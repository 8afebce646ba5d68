-- clean_creators: MediaCrawler creator records (the raw relation, lib/ingest/raw.py) -> cleaned creator rows with
-- the first failing rule as `reason` (docs/ingestion.md "Values", "Quarantine reasons"; macros: ingest_macros.sql).
-- Inputs: raw (_file, _record, one JSON column per field, _hint, _seq).
-- Params: $now_limit (TIMESTAMPTZ), $tier_bounds (the four follower bounds), $tier_names (the five tiers).
-- Columns:
--   user_id                the id, stripped; nickname, gender as crawled
--   followers, following   fans, follows (py_count rules)
--   likes_and_saves_total  interaction (py_count rules)
--   tier                   the tier of the follower count: the number of bounds <= followers picks the name
--   crawled_at             last_modify_ts (epoch ms or s)
--   _file, _record, _seq, _hint, crawl_day (Asia/Shanghai day of crawled_at), reason
WITH present AS (
    SELECT count(user_id) > 0 AS user_id, count(fans) > 0 AS fans, count(follows) > 0 AS follows,
           count(interaction) > 0 AS interaction, count(last_modify_ts) > 0 AS last_modify_ts
    FROM raw
), missing AS (
    SELECT nullif(concat_ws(', ',
        CASE WHEN NOT user_id THEN 'user_id' END, CASE WHEN NOT fans THEN 'fans' END,
        CASE WHEN NOT follows THEN 'follows' END, CASE WHEN NOT interaction THEN 'interaction' END,
        CASE WHEN NOT last_modify_ts THEN 'last_modify_ts' END
    ), '') AS cols
    FROM present
), v AS (
    -- each field as Python's str() of it (NULL: absent, null or NaN), computed once
    SELECT _seq, _file, _record, _hint, user_id AS user_id_j, last_modify_ts AS crawl_j, fans AS fans_j,
           follows AS follows_j, interaction AS inter_j,
           py_strip(py_str(user_id)) AS user_id, py_str(nickname) AS nickname, py_str(gender) AS gender,
           py_str(last_modify_ts) AS crawl_s, py_str(fans) AS fans_s, py_str(follows) AS follows_s,
           py_str(interaction) AS inter_s
    FROM raw
), w AS (
    SELECT *, epoch_num(crawl_s) AS crawl_n, count_parts(fans_s) AS fans_p, count_parts(follows_s) AS follows_p,
           count_parts(inter_s) AS inter_p
    FROM v
), x AS (
    SELECT *, epoch_ts(crawl_s, crawl_n) AS crawled_at FROM w
), p AS (
    SELECT _seq, _file, _record, _hint, user_id, nickname, gender,
           count_value(fans_s, fans_p) AS followers,
           count_value(follows_s, follows_p) AS following,
           count_value(inter_s, inter_p) AS likes_and_saves_total,
           crawled_at,
           coalesce(
               'missing column(s) ' || (SELECT cols FROM missing),
               id_reason(user_id_j, user_id, 'user_id'),
               epoch_reason(epoch_status(crawl_s, crawl_n), 'last_modify_ts', crawl_j),
               CASE WHEN crawled_at > $now_limit THEN 'last_modify_ts is in the future' END,
               count_reason(count_status(fans_s, fans_p), 'fans', fans_j),
               count_reason(count_status(follows_s, follows_p), 'follows', follows_j),
               count_reason(count_status(inter_s, inter_p), 'interaction', inter_j)
           ) AS reason
    FROM x
)
SELECT user_id, nickname, gender, followers, following, likes_and_saves_total,
       CASE WHEN followers IS NOT NULL
            THEN $tier_names[len(list_filter($tier_bounds, lambda b: b <= followers)) + 1] END AS tier,
       crawled_at, _file, _record, _seq, _hint, shanghai_day(crawled_at) AS crawl_day, reason
FROM p
ORDER BY _seq
