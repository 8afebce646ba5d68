-- creator_shortlist (CONTRACT.md, "Brands and campaigns"; docs/marts.md)
--
-- Per snapshot day D and brand: the top $top_n creators of the day's creator_scorecard whose tier is $tier and
-- whose primary_category is the brand's category (case-insensitive, trimmed), with no authenticity flag (a null
-- flag list counts as none) and a score, by score (ties: more followers, then user_id):
--   rank                1 = best score
--   user_id, nickname, tier, primary_category, score, median_er_7d, median_save_to_like, median_half_life_days,
--   evergreen_share, substantive_comment_share, est_cpe_cny, followers   as in creator_scorecard
--   tier_median_er_7d   median of median_er_7d over the day's creators of the tier (all of them, flagged too)
--   reasons             those metrics in words, er_7d against the tier median, then those of the next four that
--                       are known (a null one is left out of the words, so that an absent signal reads as absent)
--   affinity            brand_audience_affinity.affinity of the creator for this brand on D (CONTRACT.md "Finding
--                       the right creators": the share of the creator's commenters who also commented on another
--                       author's note mentioning the brand); null when the mart has no row (fewer than 20
--                       commenters or none shared)
--   search_appearances_30d, sponsored_er_ratio, comment_sentiment   as in creator_scorecard (same contract section:
--                       top-20 search results of D-29 .. D that are the creator's; median er_7d of sponsored /
--                       organic notes; net sentiment ratio of top-level comments)
-- The order stays by score: the new columns are reasons, not ranking inputs.
-- A brand's category: its first row in brands with a category.
--
-- Inputs (views; kol_pipeline/lib/marts/creator_shortlist.py registers them):
--   creator_scorecard(user_id, nickname, followers, tier, primary_category, score, authenticity_flags,
--                     median_er_7d, median_save_to_like, median_half_life_days, evergreen_share,
--                     substantive_comment_share, est_cpe_cny, search_appearances_30d, sponsored_er_ratio,
--                     comment_sentiment, snapshot_date)                           the run's days
--   brands(brand_row, brand, category)                                          brand_row = file order
--   affinity(brand, user_id, affinity, snapshot_date)                           brand_audience_affinity, run's days
-- Parameters: $days (DATE[]; NULL = every day of the input), $tier, $top_n

WITH
scorecard AS (
    SELECT *,
           median(median_er_7d) OVER (PARTITION BY snapshot_date, tier) AS tier_median_er_7d
    FROM creator_scorecard
    WHERE $days::DATE[] IS NULL OR list_contains($days::DATE[], snapshot_date)
),

brand_category AS (
    SELECT brand, lower(trim(category)) AS category_key
    FROM brands
    WHERE brand IS NOT NULL AND category IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY brand ORDER BY brand_row) = 1
),

ranked AS (
    SELECT b.brand, s.*,
           row_number() OVER (PARTITION BY s.snapshot_date, b.brand
                              ORDER BY s.score DESC, coalesce(s.followers, -1) DESC, s.user_id) AS rank
    FROM brand_category b
    JOIN scorecard s ON lower(trim(s.primary_category)) = b.category_key
    WHERE s.tier = $tier AND coalesce(len(s.authenticity_flags), 0) = 0 AND s.score IS NOT NULL
      AND NOT isnan(s.score)
),

-- the reasons' numbers as text: a percentage with one decimal, a number with a given number of decimals
shortlist AS (
    SELECT *,
           CASE WHEN median_er_7d IS NULL OR isnan(median_er_7d) THEN 'n/a'
                ELSE printf('%.1f%%', 100 * median_er_7d) END                         AS er_text,
           CASE WHEN tier_median_er_7d IS NULL OR isnan(tier_median_er_7d) THEN 'n/a'
                ELSE printf('%.1f%%', 100 * tier_median_er_7d) END                    AS tier_er_text,
           CASE WHEN median_save_to_like IS NULL OR isnan(median_save_to_like) THEN 'n/a'
                ELSE printf('%.2f', median_save_to_like) END                          AS save_text,
           CASE WHEN median_half_life_days IS NULL OR isnan(median_half_life_days) THEN 'n/a'
                ELSE printf('%.1f d', median_half_life_days) END                      AS half_life_text,
           CASE WHEN evergreen_share IS NULL OR isnan(evergreen_share) THEN 'n/a'
                ELSE replace(printf('%.1f%%', 100 * evergreen_share), '.0%', '%') END AS evergreen_text,
           CASE WHEN substantive_comment_share IS NULL OR isnan(substantive_comment_share) THEN 'n/a'
                ELSE replace(printf('%.1f%%', 100 * substantive_comment_share), '.0%', '%') END AS substantive_text,
           CASE WHEN est_cpe_cny IS NULL OR isnan(est_cpe_cny) THEN 'n/a'
                ELSE printf('¥%.2f', est_cpe_cny) END                                 AS cpe_text,
           CASE WHEN followers IS NULL THEN 'n/a'
                WHEN followers >= 1000 THEN printf('%.1fk', followers::DOUBLE / 1000)
                ELSE printf('%.0f', followers::DOUBLE) END                            AS followers_text
    FROM ranked
    WHERE rank <= $top_n::BIGINT
),

-- the reasons of "Finding the right creators", each as text only when known (null otherwise: left out)
with_affinity AS (
    SELECT s.*, a.affinity,
           CASE WHEN a.affinity IS NOT NULL AND NOT isnan(a.affinity)
                THEN '; audience affinity ' || replace(printf('%.1f%%', 100 * a.affinity), '.0%', '%') END
                                                                                      AS affinity_text,
           CASE WHEN s.search_appearances_30d IS NOT NULL
                THEN printf('; %d search results in 30 d', s.search_appearances_30d) END AS search_text,
           CASE WHEN s.sponsored_er_ratio IS NOT NULL AND NOT isnan(s.sponsored_er_ratio)
                THEN printf('; sponsored/organic er_7d %.2f', s.sponsored_er_ratio) END AS sponsored_text,
           CASE WHEN s.comment_sentiment IS NOT NULL AND NOT isnan(s.comment_sentiment)
                THEN printf('; comment sentiment %+.2f', s.comment_sentiment) END      AS sentiment_text
    FROM shortlist s
    LEFT JOIN (SELECT DISTINCT snapshot_date, brand, user_id, affinity FROM affinity) a
           ON a.snapshot_date = s.snapshot_date AND a.brand = s.brand AND a.user_id = s.user_id
)

SELECT snapshot_date, brand, rank, user_id, nickname, tier, primary_category, score, median_er_7d,
       median_save_to_like, median_half_life_days, evergreen_share, substantive_comment_share, est_cpe_cny,
       followers,
       'er_7d ' || er_text || ' (tier median ' || tier_er_text || '); saves/likes ' || save_text
           || '; half-life ' || half_life_text || '; evergreen ' || evergreen_text
           || '; substantive comments ' || substantive_text || '; est. CPE ' || cpe_text
           || '; ' || followers_text || ' followers; score ' || printf('%.3f', score)
           || coalesce(affinity_text, '') || coalesce(search_text, '') || coalesce(sponsored_text, '')
           || coalesce(sentiment_text, '')                                            AS reasons,
       tier_median_er_7d, affinity, search_appearances_30d, sponsored_er_ratio, comment_sentiment
FROM with_affinity
ORDER BY snapshot_date, brand, rank
