-- creator_scorecard (CONTRACT.md, "Creators"; docs/metrics.md)
--
-- Per snapshot day D of $days, one row per creator seen in the trailing $window_days (90) days: a creator
-- snapshot in D-89 .. D, or a note of theirs in D's note_metrics whose latest observation was crawled then
-- (the Asia/Shanghai day of crawled_at; the publish day when it is unknown).
--   followers, nickname         the latest creator snapshot on or before D (creator_state, D-124 .. D)
--   tier                        nano < b1 <= micro < b2 <= mid < b3 <= macro < b4 <= top ($tier_bounds)
--   follower_growth_30d         followers / followers of the snapshot nearest to D-30 within $tolerance days
--                               (the earlier on a tie) - 1; null unless the latest snapshot is within
--                               $tolerance days of D and that base is > 0
--   notes_90d                   notes published in D-89 .. D ("the 90-day notes")
--   primary_category            most frequent category of the 90-day notes (then the latest published, then
--                               the first name); niche_hhi = sum of squared category shares of those notes
--   median_er_7d, median_save_to_like, median_half_life_days   medians over the 90-day notes
--   evergreen_share             share of evergreen notes among their notes of the day with a known is_evergreen
--   substantive_comment_share   substantive / top-level comments on their notes seen in the window
--   est_cpe_cny                 rate card image price / median eng_30d of the 90-day notes
--   disclosure_rate             disclosed / sponsored 90-day notes
--   authenticity_flags, each against the same day's creators of the same tier:
--     low_er_for_tier      median_er_7d < $low_er_factor x the tier's median of median_er_7d
--     follower_spike       two consecutive snapshots, the earlier within the window, followers up by more than
--                          $spike_rel and more than $spike_abs, and no note of theirs published from
--                          min(previous snapshot day, spike day - $spike_quiet_days) to the spike day
--     duplicate_comments   >= $dup_min_comments comments on their notes in the window and more than $dup_share
--                          of them repeat another one's normalized text
--     low_comment_to_like  comments / likes over the 90-day notes < $low_c2l_factor x the tier's median
--   authenticity_score          1 - (weights of the raised flags) / (sum of the weights)
--   score                       weighted mean of the components' percentile ranks within (D, tier) (average
--                               rank of ties / creators with a value), over the components present; null when
--                               those carry less than $score_min_weight_share of the total weight
--   rank_in_tier_category       rank by score (then user_id) within (D, tier, primary_category)
--   comments_90d, duplicate_comment_share, comment_to_like_90d   the evidence behind two of the flags
-- Finding the right creators (CONTRACT.md, added 2026-12-05), over the 90-day notes:
--   sponsored_notes_90d, organic_notes_90d   is_sponsored true / false
--   median_er_7d_sponsored, median_er_7d_organic   median er_7d of each kind; null when fewer than 2 notes of
--                               that kind have an er_7d
--   sponsored_er_ratio          sponsored / organic; null when either is null or organic is 0
--   search_appearances_30d      ranked results (rank 1 .. $top_n) of search_rankings on D-29 .. D whose note is the
--                               creator's (the author in note_state of D: the latest crawl on or before D); a
--                               result = a (day, keyword, note): a note listed twice under a keyword that day
--                               counts once; 0 without one; null when no ranking of D-29 .. D is stored
--   search_keywords_30d         the distinct keywords of those results, sorted ([] without one; null as above)
--   median_desc_chars           median Unicode code points of the description at the latest crawl on or before D
--   video_share                 share of `video` notes among the notes with a known type
--   median_tags                 median tags per note
--   er_7d_percentile, save_to_like_percentile   of median_er_7d, median_save_to_like among the creators of the
--                               same (D, tier, primary_category) with a value: (number with a lower value + 0.5 x
--                               number of others with an equal value) / (n - 1); null when n < $min_peers (5),
--                               when the creator has no value, or its tier or primary_category is null
--   comment_sentiment           NSR (positive - negative) / (positive + negative) of the top-level comments on their
--                               notes seen in the window (CONTRACT.md "Finding the right creators": snapshot_date
--                               in D-89 .. D; comment_stats' n_pos, n_neg); null when positive + negative <
--                               $min_sentiment_comments (5)
--
-- Inputs (views; kol_pipeline/lib/metrics/creator_scorecard.py registers them):
--   note_metrics(snapshot_date, note_id, user_id, published_date, crawled_at, er_7d, save_to_like,
--                half_life_days, eng_30d, comments, likes, category, is_sponsored, is_disclosed, is_evergreen)
--   creator_state(snapshot_date, user_id, nickname, followers_by_day)    (element i: day D - i; -1: null count)
--   comment_stats(snapshot_date, user_id, n_all, n_dup, n_top, n_top_sub, n_pos, n_neg)  comments on their notes
--                last seen in the window: all, repeating another's normalized text, top-level, top-level
--                substantive, seen top-level positive, negative
--   rate_card(user_id, image_price_cny, rc_row)    rc_row: the row's position (the first row of a user counts)
--   score_weights(pos, component, weight)          the composite score's components, in order
--   note_facts(snapshot_date, note_id, user_id, desc_chars, note_type, tag_count)   note_state of the run's days
--   search_rankings(snapshot_date, keyword, rank, note_id)   the rankings of D-29 .. D of each run day D
-- Parameters: $days DATE[], $window_days, $tolerance, $lookback (124), $tier_bounds DOUBLE[4], $low_er_factor,
--   $spike_rel, $spike_abs, $spike_quiet_days, $dup_min_comments, $dup_share, $low_c2l_factor,
--   $w_low_er, $w_spike, $w_dup, $w_low_c2l (authenticity weights), $score_min_weight_share, $min_sentiment_comments,
--   $search_days (30), $top_n (20), $min_peers (5)

WITH
run_days AS (
    SELECT DISTINCT unnest($days::DATE[]) AS day
),

-- the day's note_metrics rows with an author; in90 = published in D-89 .. D
notes AS (
    SELECT n.snapshot_date AS day, n.note_id, n.user_id, n.published_date AS pub,
           n.published_date >= n.snapshot_date - ($window_days::INTEGER - 1) AS in90,
           coalesce(timezone('Asia/Shanghai', n.crawled_at)::DATE, n.published_date) AS seen_day,
           n.er_7d, n.save_to_like, n.half_life_days, n.eng_30d, n.comments, n.likes, n.category,
           coalesce(n.is_sponsored, false) AS is_sponsored,
           coalesce(n.is_sponsored, false) AND coalesce(n.is_disclosed, false) AS is_disclosed_sponsored,
           n.is_evergreen
    FROM note_metrics n
    WHERE n.snapshot_date IN (SELECT day FROM run_days) AND n.user_id IS NOT NULL
),

-- each creator's snapshots in the state of D, newest first: [offset (days before D), followers as stored]
-- for the elements of followers_by_day that hold one (offsets 0 .. $lookback)
snapshots AS MATERIALIZED (
    SELECT s.snapshot_date AS day, s.user_id, s.nickname, s.followers_by_day AS fbd,
           list_filter(list_zip(range($lookback::INTEGER + 1)::INTEGER[],
                                s.followers_by_day[1 : $lookback::INTEGER + 1]),
                       lambda x: x[2] IS NOT NULL)                AS present,
           count(*) OVER (PARTITION BY s.snapshot_date)           AS creators_in_state
    FROM creator_state s
    WHERE s.snapshot_date IN (SELECT day FROM run_days)
),

-- the snapshot nearest to D-30 within the tolerance: offsets 30, 31, 29, 32, 28, ... in this order of
-- preference (the nearer first, the earlier day on a tie); the first that holds a snapshot
nearest_30 AS (
    SELECT k AS preference,
           (30 + CASE WHEN k % 2 = 1 THEN (k + 1) // 2 ELSE -(k // 2) END)::INTEGER AS offset_
    FROM range(2 * $tolerance::INTEGER + 1) AS t(k)
),

growth_base AS (
    SELECT s.day, s.user_id, nullif(arg_min(s.fbd[n.offset_ + 1], n.preference), -1) AS growth_base
    FROM snapshots s
    CROSS JOIN nearest_30 n
    WHERE n.offset_ BETWEEN 0 AND $lookback::INTEGER AND s.fbd[n.offset_ + 1] IS NOT NULL
    GROUP BY s.day, s.user_id
),

-- the creators of D: in the state or authors of D's notes
universe AS (
    SELECT DISTINCT day, user_id FROM snapshots
    UNION
    SELECT DISTINCT day, user_id FROM notes
),

creators AS (
    SELECT u.day, u.user_id, s.nickname,
           s.present[1][1]                                    AS latest_offset,
           nullif(s.present[1][2], -1)                        AS followers,
           g.growth_base
    FROM universe u
    LEFT JOIN snapshots s USING (day, user_id)
    LEFT JOIN growth_base g USING (day, user_id)
),

-- seen in the window: a snapshot in D-89 .. D, or a note crawled (else published) then
seen AS (
    SELECT c.*
    FROM creators c
    WHERE c.latest_offset <= $window_days::INTEGER - 1
       OR EXISTS (SELECT 1 FROM notes n
                  WHERE n.day = c.day AND n.user_id = c.user_id
                    AND n.seen_day >= c.day - ($window_days::INTEGER - 1))
),

-- follower_spike: consecutive snapshots (the later at offset offset_, the one before it at prev_offset)
consecutive AS (
    SELECT day, user_id, creators_in_state, later[1] AS offset_, earlier[1] AS prev_offset,
           nullif(later[2], -1) - nullif(earlier[2], -1) AS rise,
           nullif(earlier[2], -1)                        AS before
    FROM (SELECT day, user_id, creators_in_state,
                 unnest(present[1 : len(present) - 1]) AS later, unnest(present[2:]) AS earlier
          FROM snapshots)
),

spikes AS (
    SELECT c.day, c.user_id, c.day - c.offset_ AS spike_day, c.day - c.prev_offset AS prev_day
    FROM consecutive c
    WHERE c.creators_in_state >= 2
      AND c.rise > $spike_abs
      AND CASE WHEN c.before > 0 THEN c.rise / c.before
               WHEN c.rise > 0 THEN 'inf'::DOUBLE
               ELSE 0 END > $spike_rel
      AND c.prev_offset <= $window_days::INTEGER - 1          -- the previous snapshot within the window
      AND NOT EXISTS (                                         -- no note of theirs explains it
          SELECT 1 FROM notes n
          WHERE n.day = c.day AND n.user_id = c.user_id
            AND n.pub BETWEEN least(c.day - c.prev_offset,
                                    c.day - c.offset_ - ceil($spike_quiet_days::DOUBLE)::INTEGER)
                          AND c.day - c.offset_)
),

-- note aggregates over the 90-day notes (evergreen_share over all the day's notes with a known value)
note_aggregates AS (
    SELECT day, user_id,
           count(*) FILTER (WHERE in90)                                   AS notes_90d,
           median(er_7d) FILTER (WHERE in90)                              AS median_er_7d,
           median(save_to_like) FILTER (WHERE in90)                       AS median_save_to_like,
           median(half_life_days) FILTER (WHERE in90)                     AS median_half_life_days,
           median(eng_30d) FILTER (WHERE in90)                            AS median_eng_30d,
           sum(comments) FILTER (WHERE in90)                              AS sum_comments,
           sum(likes) FILTER (WHERE in90)                                 AS sum_likes,
           count(*) FILTER (WHERE in90 AND is_sponsored)                  AS sponsored,
           count(*) FILTER (WHERE in90 AND is_disclosed_sponsored)        AS disclosed,
           avg(is_evergreen::DOUBLE)                                      AS evergreen_share
    FROM notes
    GROUP BY day, user_id
),

categories AS (
    SELECT day, user_id, category, count(*) AS n, max(pub) AS last_pub
    FROM notes
    WHERE in90 AND category IS NOT NULL
    GROUP BY day, user_id, category
),

niche AS (
    SELECT day, user_id,
           fsum((n / total) * (n / total))                                   AS niche_hhi,
           any_value(category) FILTER (WHERE is_first)                       AS primary_category
    FROM (SELECT *, sum(n) OVER (PARTITION BY day, user_id) AS total,
                 row_number() OVER (PARTITION BY day, user_id ORDER BY n DESC, last_pub DESC, category) = 1 AS is_first
          FROM categories)
    GROUP BY day, user_id
),

price AS (
    SELECT user_id, image_price_cny::DOUBLE AS image_price_cny
    FROM rate_card
    WHERE user_id IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY rc_row) = 1
),

-- sponsored vs organic: counts and median er_7d of each kind over the 90-day notes (is_sponsored is never null
-- in note_metrics: in campaign_posts, or disclosed)
kinds AS (
    SELECT day, user_id,
           count(*) FILTER (WHERE is_sponsored)                                       AS sponsored_notes_90d,
           count(*) FILTER (WHERE NOT is_sponsored)                                   AS organic_notes_90d,
           CASE WHEN count(er_7d) FILTER (WHERE is_sponsored) >= 2
                THEN median(er_7d) FILTER (WHERE is_sponsored) END                    AS median_er_7d_sponsored,
           CASE WHEN count(er_7d) FILTER (WHERE NOT is_sponsored) >= 2
                THEN median(er_7d) FILTER (WHERE NOT is_sponsored) END                AS median_er_7d_organic
    FROM notes
    WHERE in90
    GROUP BY day, user_id
),

-- content style of the 90-day notes from the latest crawl on or before D (note_state of D)
styles AS (
    SELECT n.day, n.user_id,
           median(f.desc_chars)                                                       AS median_desc_chars,
           avg((f.note_type = 'video')::DOUBLE)                                       AS video_share,
           median(f.tag_count)                                                        AS median_tags
    FROM notes n
    JOIN note_facts f ON f.snapshot_date = n.day AND f.note_id = n.note_id
    WHERE n.in90
    GROUP BY n.day, n.user_id
),

-- the ranked results of D-29 .. D: one row per (ranking day, keyword, note) ranked 1 .. $top_n
ranked_results AS (
    SELECT DISTINCT d.day, r.snapshot_date AS ranked_on, r.keyword, r.note_id
    FROM run_days d
    JOIN search_rankings r ON r.snapshot_date BETWEEN d.day - ($search_days::INTEGER - 1) AND d.day
    WHERE r.rank BETWEEN 1 AND $top_n::BIGINT AND r.note_id IS NOT NULL AND r.keyword IS NOT NULL
),

-- the days of the run with a stored ranking in their window (the others: null appearances)
ranking_days AS (
    SELECT DISTINCT d.day
    FROM run_days d
    JOIN search_rankings r ON r.snapshot_date BETWEEN d.day - ($search_days::INTEGER - 1) AND d.day
),

-- the creator's results: the note's author in note_state of D (its latest crawl on or before D)
appearances AS (
    SELECT r.day, f.user_id,
           count(*)                                                                   AS search_appearances_30d,
           list_sort(list_distinct(list(r.keyword)))                                  AS search_keywords_30d
    FROM ranked_results r
    JOIN (SELECT DISTINCT snapshot_date, note_id, user_id FROM note_facts) f
      ON f.snapshot_date = r.day AND f.note_id = r.note_id
    WHERE f.user_id IS NOT NULL
    GROUP BY r.day, f.user_id
),

measured AS (
    SELECT s.day, s.user_id, s.nickname, s.followers,
           tier_of(s.followers, $tier_bounds)                                               AS tier,
           CASE WHEN s.latest_offset <= $tolerance::INTEGER AND s.growth_base > 0
                THEN (s.followers - s.growth_base) / s.growth_base END      AS follower_growth_30d,
           coalesce(a.notes_90d, 0)                                          AS notes_90d,
           k.primary_category, k.niche_hhi,
           a.median_er_7d, a.median_save_to_like, a.median_half_life_days, a.evergreen_share,
           CASE WHEN cs.n_top > 0 THEN cs.n_top_sub / cs.n_top END          AS substantive_comment_share,
           CASE WHEN a.median_eng_30d > 0 THEN p.image_price_cny / a.median_eng_30d END AS est_cpe_cny,
           CASE WHEN a.sponsored > 0 THEN a.disclosed / a.sponsored END     AS disclosure_rate,
           coalesce(cs.n_all, 0)                                             AS comments_90d,
           CASE WHEN cs.n_all > 0 THEN cs.n_dup / cs.n_all END              AS duplicate_comment_share,
           CASE WHEN a.sum_likes > 0 THEN a.sum_comments / a.sum_likes END  AS comment_to_like_90d,
           sp.user_id IS NOT NULL                                            AS f_spike,
           coalesce(kd.sponsored_notes_90d, 0)                               AS sponsored_notes_90d,
           coalesce(kd.organic_notes_90d, 0)                                 AS organic_notes_90d,
           kd.median_er_7d_sponsored, kd.median_er_7d_organic,
           CASE WHEN kd.median_er_7d_organic <> 0
                THEN kd.median_er_7d_sponsored / kd.median_er_7d_organic END AS sponsored_er_ratio,
           CASE WHEN rd.day IS NOT NULL THEN coalesce(ap.search_appearances_30d, 0) END AS search_appearances_30d,
           CASE WHEN rd.day IS NOT NULL THEN coalesce(ap.search_keywords_30d, []::VARCHAR[]) END
                                                                             AS search_keywords_30d,
           st.median_desc_chars, st.video_share, st.median_tags,
           CASE WHEN cs.n_pos + cs.n_neg >= greatest($min_sentiment_comments, 1)
                THEN (cs.n_pos - cs.n_neg) / (cs.n_pos + cs.n_neg) END      AS comment_sentiment
    FROM seen s
    LEFT JOIN note_aggregates a USING (day, user_id)
    LEFT JOIN niche k USING (day, user_id)
    LEFT JOIN comment_stats cs ON cs.snapshot_date = s.day AND cs.user_id = s.user_id
    LEFT JOIN price p ON p.user_id = s.user_id
    LEFT JOIN (SELECT DISTINCT day, user_id FROM spikes) sp USING (day, user_id)
    LEFT JOIN kinds kd USING (day, user_id)
    LEFT JOIN styles st USING (day, user_id)
    LEFT JOIN appearances ap USING (day, user_id)
    LEFT JOIN ranking_days rd USING (day)
),

flagged AS (
    SELECT m.*,
           tier IS NOT NULL AND coalesce(median_er_7d < $low_er_factor
               * median(median_er_7d) OVER (PARTITION BY day, tier), false)               AS f_low_er,
           comments_90d >= $dup_min_comments
               AND coalesce(duplicate_comment_share, 0) > $dup_share                      AS f_dup,
           tier IS NOT NULL AND coalesce(comment_to_like_90d < $low_c2l_factor
               * median(comment_to_like_90d) OVER (PARTITION BY day, tier), false)        AS f_low_c2l
    FROM measured m
),

authenticity AS (
    SELECT f.*,
           [x FOR x IN [CASE WHEN f_low_er THEN 'low_er_for_tier' END,
                        CASE WHEN f_spike THEN 'follower_spike' END,
                        CASE WHEN f_dup THEN 'duplicate_comments' END,
                        CASE WHEN f_low_c2l THEN 'low_comment_to_like' END] IF x IS NOT NULL] AS authenticity_flags,
           CASE WHEN $w_low_er + $w_spike + $w_dup + $w_low_c2l > 0
                THEN 1 - (f_low_er::INTEGER * $w_low_er + f_spike::INTEGER * $w_spike
                          + f_dup::INTEGER * $w_dup + f_low_c2l::INTEGER * $w_low_c2l)
                         / ($w_low_er + $w_spike + $w_dup + $w_low_c2l)
                ELSE 1.0 END                                                        AS authenticity_score
    FROM flagged f
),

-- the score's components as rows: each one's percentile rank within (D, tier) among creators with a value
components AS (
    SELECT a.day, a.user_id, a.tier, w.pos, w.weight, c.value
    FROM authenticity a,
         unnest([{'component': 'median_er_7d', 'value': a.median_er_7d},
                 {'component': 'median_save_to_like', 'value': a.median_save_to_like},
                 {'component': 'substantive_comment_share', 'value': a.substantive_comment_share},
                 {'component': 'evergreen_share', 'value': a.evergreen_share},
                 {'component': 'median_half_life_days', 'value': a.median_half_life_days},
                 {'component': 'authenticity_score', 'value': a.authenticity_score},
                 {'component': 'followers', 'value': a.followers},
                 {'component': 'follower_growth_30d', 'value': a.follower_growth_30d},
                 {'component': 'notes_90d', 'value': a.notes_90d},
                 {'component': 'niche_hhi', 'value': a.niche_hhi},
                 {'component': 'est_cpe_cny', 'value': a.est_cpe_cny},
                 {'component': 'disclosure_rate', 'value': a.disclosure_rate}]) AS t(c)
    JOIN score_weights w ON w.component = c.component
    WHERE c.value IS NOT NULL AND NOT isnan(c.value)
),

percentiles AS (
    SELECT day, user_id, pos, weight,
           (rank() OVER by_value + rank() OVER by_value + count(*) OVER ties - 1) / 2
               / count(*) OVER (PARTITION BY day, tier, pos)                             AS pct
    FROM components
    WINDOW by_value AS (PARTITION BY day, tier, pos ORDER BY value),
           ties AS (PARTITION BY day, tier, pos, value)
),

scores AS (
    SELECT day, user_id,
           list_reduce(list(weight * pct ORDER BY pos), lambda a, b: a + b) AS weighted,
           list_reduce(list(weight ORDER BY pos), lambda a, b: a + b)       AS available
    FROM percentiles
    GROUP BY day, user_id
),

scored AS (
    SELECT a.*,
           CASE WHEN a.tier IS NOT NULL AND s.available > 0
                     AND s.available >= $score_min_weight_share
                         * (SELECT list_reduce(list(weight ORDER BY pos), lambda x, y: x + y) FROM score_weights)
                         - 1e-12
                THEN s.weighted / s.available END                                   AS score
    FROM authenticity a
    LEFT JOIN scores s USING (day, user_id)
),

-- er_7d_percentile, save_to_like_percentile: peers = creators of the same (D, tier, primary_category) with a value
peers AS (
    SELECT s.day, s.user_id, s.tier, s.primary_category, m.metric, m.value
    FROM scored s,
         unnest([{'metric': 'er_7d', 'value': s.median_er_7d},
                 {'metric': 'save_to_like', 'value': s.median_save_to_like}]) AS t(m)
    WHERE s.tier IS NOT NULL AND s.primary_category IS NOT NULL AND m.value IS NOT NULL AND NOT isnan(m.value)
),

peer_percentiles AS (
    SELECT day, user_id,
           any_value(pct) FILTER (WHERE metric = 'er_7d')                             AS er_7d_percentile,
           any_value(pct) FILTER (WHERE metric = 'save_to_like')                      AS save_to_like_percentile
    FROM (SELECT day, user_id, metric,
                 CASE WHEN count(*) OVER peer_group >= $min_peers::INTEGER
                      THEN ((rank() OVER by_value - 1) + 0.5 * (count(*) OVER ties - 1))
                           / (count(*) OVER peer_group - 1) END                        AS pct
          FROM peers
          WINDOW peer_group AS (PARTITION BY day, tier, primary_category, metric),
                 by_value AS (PARTITION BY day, tier, primary_category, metric ORDER BY value),
                 ties AS (PARTITION BY day, tier, primary_category, metric, value))
    GROUP BY day, user_id
)

SELECT day                                                       AS snapshot_date,
       user_id,
       nickname,
       followers::BIGINT                                         AS followers,
       tier,
       follower_growth_30d,
       notes_90d::BIGINT                                         AS notes_90d,
       primary_category,
       niche_hhi,
       median_er_7d,
       median_save_to_like,
       median_half_life_days,
       evergreen_share,
       substantive_comment_share,
       est_cpe_cny,
       disclosure_rate,
       authenticity_flags,
       authenticity_score,
       score,
       CASE WHEN score IS NOT NULL THEN row_number() OVER (
           PARTITION BY day, tier, primary_category, score IS NULL ORDER BY score DESC, user_id) END
                                                                 AS rank_in_tier_category,
       comments_90d::BIGINT                                      AS comments_90d,
       duplicate_comment_share,
       comment_to_like_90d,
       sponsored_notes_90d::BIGINT                               AS sponsored_notes_90d,
       organic_notes_90d::BIGINT                                 AS organic_notes_90d,
       median_er_7d_sponsored,
       median_er_7d_organic,
       sponsored_er_ratio,
       search_appearances_30d::BIGINT                            AS search_appearances_30d,
       search_keywords_30d,
       median_desc_chars::DOUBLE                                 AS median_desc_chars,
       video_share,
       median_tags::DOUBLE                                       AS median_tags,
       pp.er_7d_percentile,
       pp.save_to_like_percentile,
       comment_sentiment
FROM scored
LEFT JOIN peer_percentiles pp USING (day, user_id)
ORDER BY snapshot_date, user_id
