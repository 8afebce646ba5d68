-- comment_text: the macros of comments.comment_class and the text duplicates are found on (CONTRACT.md "Comments";
-- docs/metrics.md "Comment classes"). Running this file defines them on the connection; lib/ingest/comments.py
-- does that and passes the lexicon's word lists (data/reference/lexicon.json key "comment_classes") and its two
-- limits as parameters of the query that calls them.
--
-- The text a comment's words are matched in:
--   comment_stripped(content)  XHS emoji codes ([笑哭R], [赞R] ...: a bracketed run of 1-12 characters without
--                              brackets or white space), @mentions (@ up to the next white space or @) and
--                              unicode pictographs replaced by a space; NULL content gives ''
--   comment_meaningful(t)      t without everything that is not a letter or a digit of any script (punctuation,
--                              symbols, emoji, white space, '_')
--   comment_norm_text(content) the text duplicates are found on: lower(comment_meaningful(comment_stripped(..)))
-- "White space" is every character Python's str.isspace() takes (RE2's \s is ASCII only), written out below.
--
-- comment_class(content, with_punct, meaningful, purchase_intent, question, experience, fillers, tag_friend_max,
--               low_effort_min) -> the first class that applies, in this order:
--   purchase_intent, question   one of the class's words in the text;
--   tag_friend                  an @mention in the content and at most tag_friend_max meaningful characters;
--   experience                  one of the class's words in the text;
--   low_effort                  fewer than low_effort_min meaningful characters (emoji-only and empty comments
--                               included), or a text made only of filler words, repeated or combined;
--   other                       none of the above.
-- with_punct = lower(comment_stripped(content)) and meaningful = comment_meaningful(with_punct) are passed in,
-- computed once per row by the caller's subquery (a macro argument is expanded at each of its uses). A word made
-- of letters and digits only is looked for in `meaningful`, a word with punctuation (the question marks ?/？) in
-- `with_punct`; words match as substrings, case-insensitively; an empty list matches nothing.

-- a word list as one regular expression matching any of its words literally (lower-cased); NULL when empty
CREATE OR REPLACE TEMP MACRO comment_words_any(words) AS
    nullif(array_to_string(list_transform(list_filter(words, lambda w: coalesce(w, '') <> ''),
                                          lambda w: regexp_replace(lower(w), '([\\^$.|?*+()\[\]{}])', '\\\1', 'g')),
                           '|'), '');

-- the words made of letters and digits only (looked for in `meaningful`), and the others (in `with_punct`)
CREATE OR REPLACE TEMP MACRO comment_plain_words(words) AS
    list_filter(words, lambda w: NOT regexp_matches(coalesce(w, ''), '[^\p{L}\p{N}]'));
CREATE OR REPLACE TEMP MACRO comment_mark_words(words) AS
    list_filter(words, lambda w: regexp_matches(coalesce(w, ''), '[^\p{L}\p{N}]'));

CREATE OR REPLACE TEMP MACRO comment_stripped(content) AS
    regexp_replace(regexp_replace(regexp_replace(coalesce(content, ''),
        '\[[^\[\]\t\n\x{0B}\f\r\x{1C}-\x{1F} \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]{1,12}\]',
        ' ', 'g'),                                                                           -- XHS emoji codes
        '@[^@\t\n\x{0B}\f\r\x{1C}-\x{1F} \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]{1,30}',
        ' ', 'g'),                                                                           -- @mentions
        '[\x{1F000}-\x{1FAFF}\x{2600}-\x{27BF}\x{2B00}-\x{2BFF}\x{FE0F}\x{200D}]', ' ', 'g');  -- pictographs

CREATE OR REPLACE TEMP MACRO comment_meaningful(t) AS regexp_replace(t, '[^\p{L}\p{N}]+', '', 'g');

CREATE OR REPLACE TEMP MACRO comment_norm_text(content) AS lower(comment_meaningful(comment_stripped(content)));

-- whether the text holds one of the words (plain ones in `meaningful`, the others in `with_punct`)
CREATE OR REPLACE TEMP MACRO comment_has_word(with_punct, meaningful, words) AS
    coalesce(regexp_matches(meaningful, comment_words_any(comment_plain_words(words))), false)
    OR coalesce(regexp_matches(with_punct, comment_words_any(comment_mark_words(words))), false);

CREATE OR REPLACE TEMP MACRO comment_class(content, with_punct, meaningful, purchase_intent, question, experience,
                                           fillers, tag_friend_max, low_effort_min) AS
    CASE WHEN comment_has_word(with_punct, meaningful, purchase_intent) THEN 'purchase_intent'
         WHEN comment_has_word(with_punct, meaningful, question) THEN 'question'
         WHEN regexp_matches(coalesce(content, ''),
                  '@[^@\t\n\x{0B}\f\r\x{1C}-\x{1F} \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]{1,30}')
              AND length(meaningful) <= tag_friend_max THEN 'tag_friend'
         WHEN comment_has_word(with_punct, meaningful, experience) THEN 'experience'
         WHEN length(meaningful) < low_effort_min
              OR coalesce(regexp_full_match(meaningful,
                     '(?:' || comment_words_any(list_transform(fillers, lambda w: comment_meaningful(w))) || ')+'),
                     false) THEN 'low_effort'
         ELSE 'other' END;
