-- tier_benchmarks (CONTRACT.md, "Creators"; docs/metrics.md)
--
-- Per snapshot day D, tier and category (and category 'all', which takes every row of the tier):
--   creators                  creators of the day's creator_scorecard in the cell (0 in a cell that only the
--                             longevity curve has)
--   er_7d_p25 / _median / _p75, save_to_like_*, half_life_days_*, est_cpe_cny_*
--                             p25 / median / p75 over those creators of their median_er_7d, median_save_to_like,
--                             median_half_life_days and est_cpe_cny (null values left out); the category of a
--                             creator is its primary_category
--   curve_0_2d, curve_3_7d, curve_8_30d, curve_31_90d, curve_91d_plus
--                             the cross-sectional longevity curve: the median of engagements / followers over
--                             the notes whose latest observation on or before D was made in the trailing
--                             $curve_window_days days, by age bucket (whole days of age_days at that observation:
--                             0-2, 3-7, 8-30, 31-90, 91+); followers = the author's latest creator snapshot on or
--                             before D (within $creator_lookback days), the tier is the author's by those
--                             followers, the category the note's; notes of authors without followers are left out
-- Quantiles interpolate linearly between the two nearest ranks (pandas' and numpy's default), the median of an
-- even count is the mean of the two middle values: the macros below spell it out, so the numbers are those of the
-- pandas implementation this query replaced, to the last bit.
--
-- Inputs (views; kol_pipeline/lib/metrics/tier_benchmarks.py registers them):
--   creator_scorecard(snapshot_date, user_id, tier, primary_category, median_er_7d, median_save_to_like,
--                     median_half_life_days, est_cpe_cny)
--   note_state(snapshot_date, user_id, last_sd, age_days, engagements, category)
--   creator_state(snapshot_date, user_id, followers_by_day)
--              followers_by_day[i + 1] = followers of the snapshot of day D - i (null or NaN: no snapshot that
--              day; -1: a snapshot whose follower count is null)
-- Parameters: $days (DATE[]: every day of the run in one query), $curve_window_days, $creator_lookback,
--   $tier_bounds (DOUBLE[4])

-- the q-quantile of a sorted list, linear between ranks: x[i] + (x[i+1] - x[i]) * frac, i + frac = q * (n - 1)
CREATE OR REPLACE TEMP MACRO quantile_linear(xs, q) AS (
    CASE WHEN len(xs) = 0 THEN NULL
         WHEN (q * (len(xs) - 1)) % 1 = 0 THEN xs[floor(q * (len(xs) - 1))::BIGINT + 1]
         ELSE xs[floor(q * (len(xs) - 1))::BIGINT + 1]
              + (xs[floor(q * (len(xs) - 1))::BIGINT + 2] - xs[floor(q * (len(xs) - 1))::BIGINT + 1])
                * ((q * (len(xs) - 1)) % 1)
    END
);
-- the median of a sorted list: the middle value, or the mean of the two middle values
CREATE OR REPLACE TEMP MACRO median_of(xs) AS (
    CASE WHEN len(xs) = 0 THEN NULL
         ELSE (xs[(len(xs) + 1) // 2] + xs[len(xs) // 2 + 1]) / 2
    END
);
-- tier_of(followers, bounds): lib/tiers.sql

WITH
run_days AS (
    SELECT DISTINCT unnest($days::DATE[]) AS day
),

-- the creators of each day's scorecard with a tier, once under their primary_category and once under 'all'
scorecard AS (
    SELECT snapshot_date AS day, tier, cat.category, user_id,
           median_er_7d, median_save_to_like, median_half_life_days, est_cpe_cny
    FROM creator_scorecard,
         unnest(CASE WHEN primary_category IS NULL THEN ['all'] ELSE [primary_category, 'all'] END) AS cat(category)
    WHERE snapshot_date IN (SELECT day FROM run_days) AND tier IS NOT NULL
),
creator_cells AS (
    SELECT day, tier, category,
           count(DISTINCT user_id) AS creators,
           list_sort(list(median_er_7d) FILTER (WHERE NOT isnan(median_er_7d))) AS er_7d,
           list_sort(list(median_save_to_like) FILTER (WHERE NOT isnan(median_save_to_like))) AS save_to_like,
           list_sort(list(median_half_life_days) FILTER (WHERE NOT isnan(median_half_life_days))) AS half_life_days,
           list_sort(list(est_cpe_cny) FILTER (WHERE NOT isnan(est_cpe_cny))) AS est_cpe_cny
    FROM scorecard
    GROUP BY day, tier, category
),

-- the longevity curve's notes: latest observation on or before D made in the trailing curve window
curve_notes AS (
    SELECT snapshot_date AS day, user_id, category, age_days, engagements
    FROM note_state
    WHERE snapshot_date IN (SELECT day FROM run_days)
      AND last_sd::DATE BETWEEN snapshot_date - ($curve_window_days::INTEGER - 1) AND snapshot_date
      AND age_days >= 0 AND NOT isnan(age_days)
),
-- the authors' followers: the latest snapshot within the lookback (the first present element of
-- followers_by_day; element offset + 1 is the snapshot of day D - offset)
authors AS (
    SELECT day, user_id,
           nullif(by_day[list_position(list_transform(by_day[1:$creator_lookback::INTEGER + 1],
                                                      lambda f: f IS NOT NULL), true)], -1) AS followers
    FROM (
        SELECT snapshot_date AS day, user_id,
               list_transform(followers_by_day, lambda f: CASE WHEN isnan(f) THEN NULL ELSE f END) AS by_day
        FROM creator_state
        WHERE snapshot_date IN (SELECT day FROM run_days)
          AND user_id IN (SELECT user_id FROM curve_notes)
    )
),
curve_points AS (
    SELECT n.day, tier_of(a.followers, $tier_bounds) AS tier, n.category,
           CASE WHEN a.followers > 0 THEN n.engagements / a.followers END AS ratio,
           CASE WHEN floor(n.age_days) < 3 THEN 'curve_0_2d'
                WHEN floor(n.age_days) < 8 THEN 'curve_3_7d'
                WHEN floor(n.age_days) < 31 THEN 'curve_8_30d'
                WHEN floor(n.age_days) < 91 THEN 'curve_31_90d'
                ELSE 'curve_91d_plus' END AS bucket
    FROM curve_notes n
    LEFT JOIN authors a ON a.day = n.day AND a.user_id = n.user_id
),
curve_cells AS (
    SELECT p.day, p.tier, cat.category,
           median_of(list_sort(list(ratio) FILTER (WHERE bucket = 'curve_0_2d' AND ratio IS NOT NULL))) AS curve_0_2d,
           median_of(list_sort(list(ratio) FILTER (WHERE bucket = 'curve_3_7d' AND ratio IS NOT NULL))) AS curve_3_7d,
           median_of(list_sort(list(ratio) FILTER (WHERE bucket = 'curve_8_30d' AND ratio IS NOT NULL))) AS curve_8_30d,
           median_of(list_sort(list(ratio) FILTER (WHERE bucket = 'curve_31_90d' AND ratio IS NOT NULL))) AS curve_31_90d,
           median_of(list_sort(list(ratio) FILTER (WHERE bucket = 'curve_91d_plus' AND ratio IS NOT NULL))) AS curve_91d_plus
    FROM curve_points p,
         unnest(CASE WHEN p.category IS NULL THEN ['all'] ELSE [p.category, 'all'] END) AS cat(category)
    WHERE p.tier IS NOT NULL
    GROUP BY p.day, p.tier, cat.category
)

SELECT day                                           AS snapshot_date,
       tier,
       category,
       coalesce(c.creators, 0)                       AS creators,
       quantile_linear(c.er_7d, 0.25)                AS er_7d_p25,
       quantile_linear(c.er_7d, 0.5)                 AS er_7d_median,
       quantile_linear(c.er_7d, 0.75)                AS er_7d_p75,
       quantile_linear(c.save_to_like, 0.25)         AS save_to_like_p25,
       quantile_linear(c.save_to_like, 0.5)          AS save_to_like_median,
       quantile_linear(c.save_to_like, 0.75)         AS save_to_like_p75,
       quantile_linear(c.half_life_days, 0.25)       AS half_life_days_p25,
       quantile_linear(c.half_life_days, 0.5)        AS half_life_days_median,
       quantile_linear(c.half_life_days, 0.75)       AS half_life_days_p75,
       quantile_linear(c.est_cpe_cny, 0.25)          AS est_cpe_cny_p25,
       quantile_linear(c.est_cpe_cny, 0.5)           AS est_cpe_cny_median,
       quantile_linear(c.est_cpe_cny, 0.75)          AS est_cpe_cny_p75,
       v.curve_0_2d,
       v.curve_3_7d,
       v.curve_8_30d,
       v.curve_31_90d,
       v.curve_91d_plus
FROM creator_cells c
FULL OUTER JOIN curve_cells v USING (day, tier, category)
ORDER BY snapshot_date, tier, category
