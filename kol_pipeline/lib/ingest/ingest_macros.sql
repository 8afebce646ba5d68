-- The value rules of ingestion (docs/ingestion.md "Values") as DuckDB macros, created on the connection by
-- lib/ingest/clean.py before the clean_<kind> queries run. Each takes a raw field (DuckDB JSON: SQL NULL when the
-- record has no such key) or the text made of it, and gives what the pandas cleaning gave for the same Python value.
-- Two Python functions are registered beside them (clean.py): py_show(json) -> the value's repr cut to 80
-- characters (reasons quote it; called only for rejected rows), py_container_str(json) -> str() of a list or a
-- dict (Python's spelling of a container: quotes, True/None, ", " separators).

-- Python's whitespace (str.isspace, and re's \s on text; RE2's \s is ASCII only): py_ws() is created by
-- lib/ingest/clean.py before this file runs, as the literal string of those characters (a code constant).
-- str.strip(): leading and trailing Python whitespace removed (trim by a set of characters: no regex to compile).
-- trim by a set costs ~12x a plain trim (0.9 s per 2M values), and nearly every value starts and ends with a
-- character that is not whitespace: only those that do not are trimmed (left/right take code points, so a blank
-- followed by a combining mark is still seen as a blank).
CREATE OR REPLACE MACRO py_strip(s) AS CASE
    WHEN strpos(py_ws(), left(s, 1)) > 0 OR strpos(py_ws(), right(s, 1)) > 0 THEN trim(s, py_ws()) ELSE s END;

-- str(v) of a non-null JSON value as Python holds it: a string as itself, an integer as its digits, a float as its
-- repr (DuckDB's shortest round-trip text is Python's: 1.0, 1e+16, 1e-05), NaN/Infinity as nan/inf, true/false as
-- True/False, null as None, a list or an object as Python writes it (py_container_str).
CREATE OR REPLACE MACRO py_text(j) AS CASE json_type(j)
    WHEN 'VARCHAR' THEN j ->> '$'
    WHEN 'NULL' THEN 'None'
    WHEN 'BOOLEAN' THEN CASE WHEN j::VARCHAR = 'true' THEN 'True' ELSE 'False' END
    WHEN 'BIGINT' THEN CAST(j::VARCHAR::HUGEINT AS VARCHAR)
    WHEN 'UBIGINT' THEN CAST(j::VARCHAR::HUGEINT AS VARCHAR)
    WHEN 'DOUBLE' THEN CASE
        WHEN translate(j::VARCHAR, '-0123456789', '') = '' THEN j::VARCHAR  -- an integer beyond 64 bits: digits
        WHEN isnan(j::DOUBLE) THEN 'nan'
        ELSE lower(CAST(j::DOUBLE AS VARCHAR)) END  -- inf, -inf, and the shortest repr otherwise
    ELSE py_container_str(j::VARCHAR) END;

-- The value as the pandas cleaning saw it (`astype("string")`): NULL for an absent key, a JSON null or a NaN
-- (pandas' NA), else str(v).
CREATE OR REPLACE MACRO py_str(j) AS CASE
    WHEN j IS NULL OR json_type(j) = 'NULL' THEN NULL
    WHEN json_type(j) = 'DOUBLE' AND translate(j::VARCHAR, '-0123456789', '') <> '' AND isnan(j::DOUBLE) THEN NULL
    ELSE py_text(j) END;

-- pandas.to_numeric(text, errors="coerce") of a text: a float, NULL where pandas gives NaN (NaN itself, digits
-- grouped by "_", a value beyond a double: DuckDB reads "1e400" as inf, pandas as NaN).
CREATE OR REPLACE MACRO py_num(s) AS CASE
    WHEN s IS NULL OR contains(s, '_') THEN NULL
    WHEN isnan(try_cast(s AS DOUBLE)) THEN NULL
    WHEN isinf(try_cast(s AS DOUBLE))
         AND lower(py_strip(s)) NOT IN ('inf', '+inf', '-inf', 'infinity', '+infinity', '-infinity') THEN NULL
    ELSE try_cast(s AS DOUBLE) END;

-- XHS counts (parsing.parse_counts): "1,234" (commas dropped), "" and the zero labels are 0, "1.2万" 12000,
-- "10万+" 100000, "2.3w", "1.2k", "3千", "1亿"; sign and blanks allowed around; rounded half to even as numpy.
-- count_parts: the text split by the count pattern (sign, num, unit, plus: '' where absent, num '' when the text
-- is not a count).
CREATE OR REPLACE MACRO count_parts(s) AS regexp_extract(
    CASE WHEN trim(replace(replace(s, ',', ''), '，', ''), ascii_ws())
              IN ('', '赞', '点赞', '收藏', '评论', '分享')  -- ascii_ws(): ' ', tab, CR, LF (clean.py)
         THEN '0' ELSE replace(replace(s, ',', ''), '，', '') END,
    '^[\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]*([-+]?)[\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]*([0-9]+(?:\.[0-9]+)?)[\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]*(万|w|W|千|k|K|亿)?[\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]*(\+)?[\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]*$',
    ['sign', 'num', 'unit', 'plus']);

CREATE OR REPLACE MACRO count_unit(u) AS CASE u
    WHEN '万' THEN 10000 WHEN 'w' THEN 10000 WHEN 'W' THEN 10000 WHEN '千' THEN 1000
    WHEN 'k' THEN 1000 WHEN 'K' THEN 1000 WHEN '亿' THEN 100000000 ELSE 1 END;

-- The count of the parts p of a text s (count_parts(s), computed once as a column: a macro repeats its
-- arguments' expressions wherever it uses them): as a double, NULL where the text is not a count; the status:
-- NULL (fine), 'missing', 'nan' (not a number), 'negative', 'range' (beyond 1e15); the value (BIGINT) when fine.
CREATE OR REPLACE MACRO count_double(p) AS round_even(nullif(p.num, '')::DOUBLE * count_unit(p.unit), 0);

CREATE OR REPLACE MACRO count_status(s, p) AS CASE
    WHEN s IS NULL THEN 'missing'
    WHEN p.num = '' THEN 'nan'
    WHEN p.sign = '-' AND p.num::DOUBLE > 0 THEN 'negative'
    WHEN count_double(p) > 1e15 THEN 'range' END;

CREATE OR REPLACE MACRO count_value(s, p) AS
    CASE WHEN count_status(s, p) IS NULL THEN CAST(count_double(p) AS BIGINT) END;

-- The reason of a count's status (parsing.parse_counts' texts), NULL when fine.
CREATE OR REPLACE MACRO count_reason(status, field, j) AS CASE status
    WHEN 'missing' THEN 'missing count ' || field
    WHEN 'nan' THEN field || ' is not a number: ' || py_show(j::VARCHAR)
    WHEN 'negative' THEN field || ' is negative: ' || py_show(j::VARCHAR)
    WHEN 'range' THEN field || ' is out of range: ' || py_show(j::VARCHAR) END;

-- Epoch times (parsing.parse_epoch_ms): milliseconds, or seconds below 1e11 (an export variant, scaled).
-- epoch_status: NULL (fine), 'missing' (absent, null or blank), 'nan' (not a number), 'nonpos' (<= 0), 'range'
-- (beyond 2262-04-11, pandas' last nanosecond timestamp); epoch_ts: the instant (TIMESTAMPTZ, whole microseconds
-- rounded half to even as numpy) where the status is NULL.
-- n: epoch_num(s), computed once as a column.
CREATE OR REPLACE MACRO epoch_num(s) AS py_num(py_strip(s));

CREATE OR REPLACE MACRO epoch_ms(n) AS CASE WHEN n >= 1e11 THEN n ELSE n * 1000 END;

CREATE OR REPLACE MACRO epoch_status(s, n) AS CASE
    WHEN s IS NULL OR py_strip(s) = '' THEN 'missing'
    WHEN n IS NULL THEN 'nan'
    WHEN n <= 0 THEN 'nonpos'
    WHEN NOT (abs(epoch_ms(n)) <= 9223372036854) THEN 'range' END;

CREATE OR REPLACE MACRO epoch_ts(s, n) AS CASE WHEN epoch_status(s, n) IS NULL
    THEN make_timestamp(CAST(round_even(epoch_ms(n) * 1000, 0) AS BIGINT))::TIMESTAMPTZ END;

CREATE OR REPLACE MACRO epoch_reason(status, field, j) AS CASE status
    WHEN 'missing' THEN 'missing ' || field
    WHEN 'nan' THEN field || ' is not an epoch time: ' || py_show(j::VARCHAR)
    WHEN 'nonpos' THEN field || ' is not a valid epoch time: ' || py_show(j::VARCHAR)
    WHEN 'range' THEN field || ' is out of range for an epoch time: ' || py_show(j::VARCHAR) END;

-- The Asia/Shanghai calendar day of an instant (ICU's time zone rules, as pandas' tz_convert: the fixed +8 offset
-- since 1991, daylight saving 1986-1991 and the older rules before).
CREATE OR REPLACE MACRO shanghai_day(ts) AS CAST(timezone('Asia/Shanghai', ts) AS DATE);

-- Ids (parsing.check_ids): s = py_strip(py_str(j)); 1 to 64 of [0-9A-Za-z_-]; reason NULL when fine.
CREATE OR REPLACE MACRO id_reason(j, s, field) AS CASE
    WHEN s IS NULL OR s = '' THEN 'missing ' || field
    WHEN NOT regexp_full_match(s, '[0-9A-Za-z_\-]{1,64}') THEN 'bad ' || field || ': ' || py_show(j::VARCHAR)
END;

-- One element of a tag list as Python's str(x).strip() (a null element is 'None', a NaN 'nan').
CREATE OR REPLACE MACRO py_tag_items(j) AS
    list_filter(list_transform(json_extract(j, '$[*]'), lambda x: py_strip(py_text(x))), lambda x: x <> '');

-- Notes' tag_list (parsing.split_tags): a comma-joined text ("a,b", also "，"), a JSON list (or a text holding
-- one); blanks dropped; absent/null -> []. s: py_str(j).
CREATE OR REPLACE MACRO py_tags(j, s) AS CASE
    WHEN s IS NULL THEN []::VARCHAR[]
    WHEN json_type(j) = 'ARRAY' THEN py_tag_items(j)
    WHEN starts_with(py_strip(s), '[') AND json_valid(py_strip(s)) THEN py_tag_items(py_strip(s)::JSON)
    ELSE list_filter(list_transform(regexp_split_to_array(py_strip(s), '[,，]'), lambda x: py_strip(x)), lambda x: x <> '')
END;

-- A brand name or disclosure marker (already lower-cased) found in a lower-cased text (text.term_pattern): a
-- Latin term (letters, digits, '#', ' ', '_', '-') as a whole word (so "#ad" does not fire in "#adidas"), any
-- other as a substring.
CREATE OR REPLACE MACRO term_found(body, term, is_word) AS CASE
    WHEN NOT contains(body, term) THEN FALSE  -- most texts: no pattern is compiled for them
    WHEN NOT is_word THEN TRUE
    ELSE regexp_matches(body, '(?:^|[^a-z0-9])' || term || '(?:[^a-z0-9]|$)') END;  -- term: [#a-z0-9 _-]

-- The YYYY-MM-DD in a file's name (parsing.date_from_name: the first one, NULL when it is not a date).
CREATE OR REPLACE MACRO name_day(f) AS CASE
    WHEN regexp_extract(regexp_extract(f, '[^/]*$'), '([0-9]{4})-[0-9]{2}-[0-9]{2}', 1) > '0000'
    THEN try_cast(regexp_extract(regexp_extract(f, '[^/]*$'), '[0-9]{4}-[0-9]{2}-[0-9]{2}') AS DATE) END;

-- A day within the run's range [$start, $end] (either bound NULL: open); with no bound at all every row counts.
CREATE OR REPLACE MACRO in_range(d, lo, hi) AS
    (lo IS NULL AND hi IS NULL) OR (d IS NOT NULL AND (lo IS NULL OR d >= lo) AND (hi IS NULL OR d <= hi));
