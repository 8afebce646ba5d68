-- The tier of a follower count (CONTRACT.md "Tiers (by followers on the day)"), one macro for every query that
-- needs it (note_metrics, creator_scorecard, tier_benchmarks, campaign_performance, keyword_share_of_voice):
-- nano < bounds[1] <= micro < bounds[2] <= mid < bounds[3] <= macro < bounds[4] <= top; null followers, null tier.
-- `bounds` is the configured lower bounds of micro, mid, macro and top ($tier_bounds, lib/settings.py).
-- lib/duck.run_query creates it on the connection before a query that calls tier_of.
CREATE OR REPLACE TEMP MACRO tier_of(followers, bounds) AS (
    CASE WHEN followers IS NULL THEN NULL
         WHEN followers < bounds[1] THEN 'nano'
         WHEN followers < bounds[2] THEN 'micro'
         WHEN followers < bounds[3] THEN 'mid'
         WHEN followers < bounds[4] THEN 'macro'
         ELSE 'top'
    END
);
