-- sentiment: the macros of comments.sentiment (CONTRACT.md "Finding the right creators"; docs/metrics.md
-- "Comment sentiment"). Running this file defines them on the connection; lib/ingest/sentiment.py does that and
-- passes the word lists (lexicon key "sentiment", data/reference/lexicon.json) as parameters of the query that
-- calls them, e.g. comment_sentiment(content, $negative, $positive, $negators, $not_negations).
--
-- comment_sentiment(content, negative, positive, negators, not_negations) -> 'negative' | 'positive' | 'neutral':
--   on the comment's text, lower-cased, with XHS emoji codes ([笑哭R], [赞R] ...), @mentions (@ up to the next
--   space or @) and unicode pictographs replaced by a space (as lib/ingest/comments.py sets them aside for the
--   comment classes; punctuation is kept: "不，推荐" is not a negation), and with the compounds of not_negations
--   (e.g. 特别: its 别 is not a negator in 特别喜欢) replaced by a space:
--   negative  when it contains a negative word (难用, 踩雷, 智商税, ...), or a positive word directly preceded by
--             a negator (不推荐, 不好用, 没有效果: 有效 after 没, 别买 is not: 买 is not a positive word);
--   positive  else when it contains a positive word (好用, 喜欢, 推荐, ...);
--   neutral   else (an empty or null text included).
-- Words match as substrings (Chinese has no spaces), case-insensitively; an empty list matches nothing.

-- a word list as one regular expression matching any of its words literally (lower-cased); NULL when empty
CREATE OR REPLACE TEMP MACRO sentiment_any(words) AS
    nullif(array_to_string(list_transform(list_filter(words, lambda w: coalesce(w, '') <> ''),
                                          lambda w: regexp_replace(lower(w), '([\\^$.|?*+()\[\]{}])', '\\\1', 'g')),
                           '|'), '');

-- the text the words are matched in
CREATE OR REPLACE TEMP MACRO sentiment_text(content, not_negations) AS
    regexp_replace(
        lower(regexp_replace(regexp_replace(regexp_replace(coalesce(content, ''),
            '\[[^\[\]\s\p{Z}]{1,12}\]', ' ', 'g'),                           -- XHS emoji codes
            '@[^\s\p{Z}@]{1,30}', ' ', 'g'),                                 -- @mentions
            '[\x{1F000}-\x{1FAFF}\x{2600}-\x{27BF}\x{2B00}-\x{2BFF}\x{FE0F}\x{200D}]', ' ', 'g')),  -- pictographs
        coalesce(sentiment_any(not_negations), '(?:$^)'), ' ', 'g');

-- what makes a text negative: a negative word, or a negator directly followed by a positive word
CREATE OR REPLACE TEMP MACRO sentiment_negative_pattern(negative, positive, negators) AS
    nullif(concat_ws('|', sentiment_any(negative),
                     '(?:' || sentiment_any(negators) || ')(?:' || sentiment_any(positive) || ')'), '');

CREATE OR REPLACE TEMP MACRO comment_sentiment_of_text(t, negative, positive, negators) AS
    CASE WHEN coalesce(regexp_matches(t, sentiment_negative_pattern(negative, positive, negators)), false)
              THEN 'negative'
         WHEN coalesce(regexp_matches(t, sentiment_any(positive)), false) THEN 'positive'
         ELSE 'neutral' END;

CREATE OR REPLACE TEMP MACRO comment_sentiment(content, negative, positive, negators, not_negations) AS
    comment_sentiment_of_text(sentiment_text(content, not_negations), negative, positive, negators);
