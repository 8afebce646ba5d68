-- tier_comparison (CONTRACT.md, "Brands and campaigns"; docs/marts.md): the micro vs mega question, in numbers
--
-- Per snapshot day D (each day of campaign_performance's input), three levels:
--   each campaign x tier; each brand x tier (campaign_id `all`: the brand's campaigns together); and every
--   campaign x tier (campaign_id `all`, brand `all`). Tiers: nano .. top always, `unknown` on the days that have
--   it (a campaign note of unknown tier, or a ranked result by an author of unknown tier).
--   notes, spend_cny, engagements, saves   from campaign_performance's tier rows, summed over the level's
--                       campaigns (a tier without a campaign note: 0, nothing was bought there; a tier whose
--                       notes are all unmeasured: null engagements and saves)
--   spend_share, engagement_share, save_share   the tier's part of the level's total over its tiers (null
--                       when the total is 0 or null)
--   cpe_cny = spend_cny / engagements;  cost_per_save_cny = spend_cny / saves
--   brand_results       top-20 brand results (keyword_share_of_voice) whose author is of the tier: over the
--                       campaign's target keywords for a campaign, over every ranked keyword for a brand, over
--                       every keyword and brand for the overall level; null on a day without rankings
--   sov_contribution    brand_results / the level's brand_results over its tiers
-- Keywords and brands are matched on lower(trim(name)).
--
-- Inputs (views; kol_pipeline/lib/marts/tier_comparison.py registers them):
--   campaign_performance(campaign_id, brand, tier, notes, spend_cny, engagements, saves, snapshot_date)
--   keyword_share_of_voice(keyword, brand, brand_results_nano .. _top, brand_results_unknown_tier, snapshot_date)
--   campaign_keywords(campaign_id, keyword)        one row per target keyword
--   campaigns(campaign_id, brand)
-- No parameters: every day of the inputs.

WITH
tiers(tier, tord) AS (
    VALUES ('nano', 1), ('micro', 2), ('mid', 3), ('macro', 4), ('top', 5), ('unknown', 6)
),

unknown_days AS (
    SELECT snapshot_date AS day FROM campaign_performance WHERE tier = 'unknown'
    UNION
    SELECT snapshot_date FROM keyword_share_of_voice WHERE brand_results_unknown_tier > 0
),

-- each campaign and tier of a day, the tier's values from campaign_performance (0 when it has no row)
campaign_level AS (
    SELECT g.day, g.campaign_id, g.brand, t.tier, t.tord, 0 AS lvl,
           CASE WHEN v.present THEN v.notes ELSE 0 END       AS notes,
           CASE WHEN v.present THEN v.spend_cny ELSE 0 END   AS spend_cny,
           CASE WHEN v.present THEN v.engagements ELSE 0 END AS engagements,
           CASE WHEN v.present THEN v.saves ELSE 0 END       AS saves
    FROM (SELECT DISTINCT snapshot_date AS day, campaign_id, brand FROM campaign_performance WHERE tier = 'all') g
    CROSS JOIN tiers t
    LEFT JOIN (SELECT snapshot_date AS day, campaign_id, tier, notes::DOUBLE AS notes, spend_cny, engagements,
                      saves, true AS present
               FROM campaign_performance
               WHERE tier <> 'all') v
           ON v.day = g.day AND v.campaign_id = g.campaign_id AND v.tier = t.tier
    WHERE t.tier <> 'unknown' OR g.day IN (SELECT day FROM unknown_days)
),

levels AS (
    SELECT * FROM campaign_level
    UNION ALL
    SELECT day, 'all', brand, tier, tord, 1, sum(notes),
           CASE WHEN count(spend_cny) > 0 THEN fsum(spend_cny) END,
           CASE WHEN count(engagements) > 0 THEN fsum(engagements) END,
           CASE WHEN count(saves) > 0 THEN fsum(saves) END
    FROM campaign_level
    WHERE brand IS NOT NULL
    GROUP BY day, brand, tier, tord
    UNION ALL
    SELECT day, 'all', 'all', tier, tord, 2, sum(notes),
           CASE WHEN count(spend_cny) > 0 THEN fsum(spend_cny) END,
           CASE WHEN count(engagements) > 0 THEN fsum(engagements) END,
           CASE WHEN count(saves) > 0 THEN fsum(saves) END
    FROM campaign_level
    GROUP BY day, tier, tord
),

-- the share-of-voice counts by tier, one row per day, keyword, brand and tier
sov_long AS (
    SELECT snapshot_date AS day, lower(trim(keyword)) AS keyword_key, lower(trim(brand)) AS brand_key, tier,
           coalesce(n, 0) AS n
    FROM keyword_share_of_voice
    UNPIVOT INCLUDE NULLS (n FOR tier IN (brand_results_nano AS 'nano', brand_results_micro AS 'micro',
                                          brand_results_mid AS 'mid', brand_results_macro AS 'macro',
                                          brand_results_top AS 'top', brand_results_unknown_tier AS 'unknown'))
),

sov_days AS (
    SELECT DISTINCT snapshot_date AS day FROM keyword_share_of_voice
),

campaign_targets AS (
    SELECT DISTINCT k.campaign_id, lower(trim(k.keyword)) AS keyword_key, lower(trim(c.brand)) AS brand_key
    FROM campaign_keywords k
    JOIN campaigns c USING (campaign_id)
),

campaign_sov AS (
    SELECT s.day, t.campaign_id, s.tier, sum(s.n) AS n
    FROM sov_long s
    JOIN campaign_targets t USING (keyword_key, brand_key)
    GROUP BY s.day, t.campaign_id, s.tier
),

brand_sov AS (
    SELECT day, brand_key, tier, sum(n) AS n FROM sov_long GROUP BY day, brand_key, tier
),

all_sov AS (
    SELECT day, tier, sum(n) AS n FROM sov_long GROUP BY day, tier
),

with_sov AS (
    SELECT l.*,
           CASE WHEN l.day IN (SELECT day FROM sov_days)
                THEN coalesce(CASE l.lvl WHEN 0 THEN cs.n WHEN 1 THEN bs.n ELSE a.n END, 0) END AS brand_results
    FROM levels l
    LEFT JOIN campaign_sov cs ON l.lvl = 0 AND cs.day = l.day AND cs.campaign_id = l.campaign_id AND cs.tier = l.tier
    LEFT JOIN brand_sov bs ON l.lvl = 1 AND bs.day = l.day AND bs.brand_key = lower(trim(l.brand)) AND bs.tier = l.tier
    LEFT JOIN all_sov a ON l.lvl = 2 AND a.day = l.day AND a.tier = l.tier
),

totals AS (
    SELECT *,
           CASE WHEN count(spend_cny) OVER w > 0 THEN fsum(spend_cny) OVER w END         AS spend_total,
           CASE WHEN count(engagements) OVER w > 0 THEN fsum(engagements) OVER w END     AS engagement_total,
           CASE WHEN count(saves) OVER w > 0 THEN fsum(saves) OVER w END                 AS save_total,
           CASE WHEN count(brand_results) OVER w > 0 THEN sum(brand_results) OVER w END AS results_total
    FROM with_sov
    WINDOW w AS (PARTITION BY day, campaign_id, brand)
)

SELECT day                                                                   AS snapshot_date,
       campaign_id,
       brand,
       tier,
       notes::BIGINT                                                         AS notes,
       spend_cny,
       CASE WHEN spend_total <> 0 THEN spend_cny / spend_total END           AS spend_share,
       engagements,
       CASE WHEN engagement_total <> 0 THEN engagements / engagement_total END AS engagement_share,
       saves,
       CASE WHEN save_total <> 0 THEN saves / save_total END                 AS save_share,
       CASE WHEN engagements <> 0 THEN spend_cny / engagements END           AS cpe_cny,
       CASE WHEN saves <> 0 THEN spend_cny / saves END                       AS cost_per_save_cny,
       brand_results::BIGINT                                                 AS brand_results,
       CASE WHEN results_total <> 0 THEN brand_results / results_total END   AS sov_contribution
FROM totals
ORDER BY day, lvl, brand, campaign_id, tord
