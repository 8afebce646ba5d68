-- clean_notes: MediaCrawler note records (the raw relation, lib/ingest/raw.py) -> cleaned note rows with the
-- first failing rule as `reason` (docs/ingestion.md "Values", "Quarantine reasons"; macros: ingest_macros.sql).
-- Inputs: raw (_file, _record, one JSON column per field, _hint: the batch's fallback day, _seq: position),
--   kw (cat_pos, category, keyword: categories.csv lower-cased and stripped, blanks left out),
--   brand_terms (brand_pos, brand, term, is_word: every brand name and alias, lower-cased),
--   markers (term, is_word: the disclosure markers, lower-cased).
-- Params: $now_limit (TIMESTAMPTZ: a crawl after it is "in the future").
-- Columns:
--   note_id, user_id     the ids, stripped
--   nickname             the author's nickname as crawled
--   note_type            type stripped and lower-cased: 'video' or 'normal' (anything else, or none: 'normal')
--   title, description   title and desc ('' when absent)
--   tags                 tag_list split (py_tags)
--   published_at         `time` (epoch ms or s); crawled_at: `last_modify_ts`
--   likes, saves, comments, shares   liked_count, collected_count, comment_count, share_count (py_count rules)
--   engagements          likes + saves + comments + shares
--   category             the category whose keywords score most: 3 per tag containing one, 2 if the title does,
--                        1 if the description does; ties: the category listed first; no score: NULL
--   brands               the brands (file order) whose name or an alias is in the note's text
--   is_disclosed         a disclosure marker is in the note's text
--   (note text: title, description and the tags joined by spaces, on three lines, lower-cased)
--   _file, _record, _seq, _hint, crawl_day (Asia/Shanghai day of crawled_at), reason
WITH present AS (
    SELECT count(note_id) > 0 AS note_id, count(user_id) > 0 AS user_id, count("time") > 0 AS "time",
           count(last_modify_ts) > 0 AS last_modify_ts, count(liked_count) > 0 AS liked_count,
           count(collected_count) > 0 AS collected_count, count(comment_count) > 0 AS comment_count,
           count(share_count) > 0 AS share_count
    FROM raw
), missing AS (
    SELECT nullif(concat_ws(', ',
        CASE WHEN NOT note_id THEN 'note_id' END, CASE WHEN NOT user_id THEN 'user_id' END,
        CASE WHEN NOT "time" THEN 'time' END, CASE WHEN NOT last_modify_ts THEN 'last_modify_ts' END,
        CASE WHEN NOT liked_count THEN 'liked_count' END, CASE WHEN NOT collected_count THEN 'collected_count' END,
        CASE WHEN NOT comment_count THEN 'comment_count' END, CASE WHEN NOT share_count THEN 'share_count' END
    ), '') AS cols
    FROM present
), v AS (
    -- each field as Python's str() of it (NULL: absent, null or NaN), computed once
    SELECT _seq, _file, _record, _hint, note_id AS note_id_j, user_id AS user_id_j, "time" AS time_j,
           last_modify_ts AS crawl_j, liked_count AS liked_j, collected_count AS saves_j,
           comment_count AS comments_j, share_count AS shares_j, tag_list AS tags_j,
           py_strip(py_str(note_id)) AS note_id, py_strip(py_str(user_id)) AS user_id, py_str(nickname) AS nickname,
           py_str("type") AS type_s, py_str(title) AS title_s, py_str("desc") AS desc_s, py_str(tag_list) AS tags_s,
           py_str("time") AS pub_s, py_str(last_modify_ts) AS crawl_s, py_str(liked_count) AS liked_s,
           py_str(collected_count) AS saves_s, py_str(comment_count) AS comments_s, py_str(share_count) AS shares_s
    FROM raw
), w AS (
    SELECT *, epoch_num(pub_s) AS pub_n, epoch_num(crawl_s) AS crawl_n, count_parts(liked_s) AS liked_p,
           count_parts(saves_s) AS saves_p, count_parts(comments_s) AS comments_p, count_parts(shares_s) AS shares_p,
           lower(py_strip(coalesce(type_s, 'normal'))) AS type_l
    FROM v
), x AS (
    SELECT *, epoch_ts(pub_s, pub_n) AS published_at, epoch_ts(crawl_s, crawl_n) AS crawled_at
    FROM w
), p AS MATERIALIZED (
    SELECT _seq, _file, _record, _hint, note_id, user_id, nickname,
           CASE WHEN type_l IN ('normal', 'video') THEN type_l ELSE 'normal' END AS note_type,
           coalesce(title_s, '') AS title,
           coalesce(desc_s, '') AS description,
           py_tags(tags_j, tags_s) AS tags,
           published_at,
           crawled_at,
           count_value(liked_s, liked_p) AS likes,
           count_value(saves_s, saves_p) AS saves,
           count_value(comments_s, comments_p) AS comments,
           count_value(shares_s, shares_p) AS shares,
           coalesce(
               'missing column(s) ' || (SELECT cols FROM missing),
               id_reason(note_id_j, note_id, 'note_id'),
               id_reason(user_id_j, user_id, 'user_id'),
               epoch_reason(epoch_status(crawl_s, crawl_n), 'last_modify_ts', crawl_j),
               CASE WHEN crawled_at > $now_limit THEN 'last_modify_ts is in the future' END,
               epoch_reason(epoch_status(pub_s, pub_n), 'time', time_j),
               count_reason(count_status(liked_s, liked_p), 'liked_count', liked_j),
               count_reason(count_status(saves_s, saves_p), 'collected_count', saves_j),
               count_reason(count_status(comments_s, comments_p), 'comment_count', comments_j),
               count_reason(count_status(shares_s, shares_p), 'share_count', shares_j),
               CASE WHEN published_at > crawled_at THEN 'published_at is after crawled_at' END
           ) AS reason
    FROM x
), texts AS MATERIALIZED (
    SELECT _seq, lower(title) AS title_l, lower(description) AS desc_l,
           lower(title || chr(10) || description || chr(10) || array_to_string(tags, ' ')) AS body
    FROM p
), note_tags AS (
    SELECT _seq, lower(unnest(tags)) AS tag FROM p
), tag_keywords AS (
    -- each distinct tag is matched against the keywords once: tags repeat across notes (the same join per row)
    SELECT d.tag, k.cat_pos, k.category FROM (SELECT DISTINCT tag FROM note_tags) d JOIN kw k ON contains(d.tag, k.keyword)
), hits AS (
    -- 2 per keyword in the title, 1 in the description, 3 per tag containing it
    SELECT t._seq, k.cat_pos, k.category,
           2 * contains(t.title_l, k.keyword)::INTEGER + contains(t.desc_l, k.keyword)::INTEGER AS score
    FROM texts t JOIN kw k ON contains(t.title_l, k.keyword) OR contains(t.desc_l, k.keyword)
    UNION ALL
    SELECT g._seq, tk.cat_pos, tk.category, 3 AS score FROM note_tags g JOIN tag_keywords tk USING (tag)
), scores AS (
    SELECT _seq, cat_pos, category, sum(score) AS score FROM hits GROUP BY ALL
), best AS (
    SELECT _seq, arg_min(category, [-score, cat_pos]) AS category FROM scores WHERE score > 0 GROUP BY _seq
), brand_hits AS (
    SELECT _seq, list(brand ORDER BY brand_pos) AS brands
    FROM (
        SELECT DISTINCT t._seq, bt.brand_pos, bt.brand
        FROM texts t JOIN brand_terms bt ON term_found(t.body, bt.term, bt.is_word)
    )
    GROUP BY _seq
), disclosed AS (
    SELECT DISTINCT t._seq FROM texts t JOIN markers m ON term_found(t.body, m.term, m.is_word)
)
SELECT p.note_id, p.user_id, p.nickname, p.note_type, p.title, p.description, p.tags, p.published_at,
       p.crawled_at, p.likes, p.saves, p.comments, p.shares, p.likes + p.saves + p.comments + p.shares AS engagements,
       best.category, coalesce(brand_hits.brands, []::VARCHAR[]) AS brands, disclosed._seq IS NOT NULL AS is_disclosed,
       p._file, p._record, p._seq, p._hint, shanghai_day(p.crawled_at) AS crawl_day, p.reason
FROM p
LEFT JOIN best USING (_seq)
LEFT JOIN brand_hits USING (_seq)
LEFT JOIN disclosed USING (_seq)
ORDER BY p._seq
