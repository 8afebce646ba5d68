-- campaign_performance (CONTRACT.md, "Brands and campaigns"; docs/marts.md)
--
-- Per snapshot day D, campaign that started on or before D, and tier (plus tier `all`), over the campaign's posts
-- posted on or before D (a post without posted_date always counts):
--   creators            distinct authors of those notes (the paid creator, else the crawl's author, else
--                       note_metrics' user_id)
--   notes               distinct campaign notes
--   spend_cny           sum of fee_cny (a post's fee: the sum of its rows' fees in the campaign)
--   engagements         sum over measured notes of eng_30d where known, else the latest engagements: D's
--                       note_metrics row, else (a note outside the note_metrics window) its latest crawl on or
--                       before D; a never-crawled note is unmeasured. Null when no note is measured
--   saves               the same for saves at the latest observation
--   cpe_cny             spend_cny / engagements;  cost_per_save_cny = spend_cny / saves (null when 0 or null)
--   median_er_7d        median er_7d of the notes (D's note_metrics)
--   keyword_coverage    share of crawled notes whose title, desc or tags contain a target keyword
--                       (case-insensitive)
--   disclosure_rate     share of crawled (or measured) notes carrying a disclosure marker
--   density_ok          distinct creators >= $min_creators, on the `all` row only (null on tier rows)
--   notes_measured, spend_measured_cny (fees of measured notes), matched_cpe_cny = spend_measured_cny / engagements
-- Tier: the author's tier on the note's publish date (note_metrics.published_date, else the crawl's
-- Asia/Shanghai publish day, else posted_date): of the author's creator snapshots taken on or before D, the one
-- nearest to that day, the earlier on a tie (a note without any day: the earliest); tier from followers with the
-- configured bounds ($tier_bounds), the stored tier when followers are null; `unknown` without a snapshot.
-- A started campaign without a post by D has an `all` row with 0 creators, 0 notes and 0 spend.
--
-- Inputs (views; kol_pipeline/lib/marts/campaign_performance.py registers them):
--   campaigns(campaign_id, brand, phase, start_date)
--   campaign_keywords(campaign_id, keyword)                                  one row per target keyword
--   campaign_posts(post_row, campaign_id, note_id, user_id, fee_cny, posted_date)   post_row = file order
--   note_metrics(note_id, user_id, published_date, engagements, saves, eng_30d, er_7d, is_disclosed,
--                snapshot_date)                                           the run's days
--   notes(note_id, user_id, title, description, tags, published_at, crawled_at, engagements, saves,
--         is_disclosed, snapshot_date)                                    the window's crawls
--   creators(user_id, followers, tier, crawled_at, snapshot_date)         the window's creator snapshots
-- Parameters: $days (DATE[]), $window_days (INTEGER: D sees the crawls and snapshots of D - $window_days .. D,
-- the partitions the asset's window mapping gives a one-day run of D, so that a ranged run gives each day the
-- rows of a one-day run), $tier_bounds (BIGINT[4]: micro, mid, macro, top lower bounds), $min_creators

WITH
run_days AS (
    SELECT DISTINCT unnest($days::DATE[]) AS day
),

started AS (
    SELECT d.day, c.campaign_id
    FROM run_days d
    JOIN campaigns c ON c.start_date <= d.day
),

-- a campaign's posts as of D, one row per (campaign, note): fees summed, the first paid user id in file order
posts AS (
    SELECT s.day, p.campaign_id, p.note_id,
           CASE WHEN count(p.fee_cny) > 0 THEN fsum(p.fee_cny) END          AS fee_cny,
           arg_min(p.user_id, p.post_row) FILTER (WHERE p.user_id IS NOT NULL) AS user_id,
           min(p.posted_date)                                                AS posted_date
    FROM started s
    JOIN campaign_posts p ON p.campaign_id = s.campaign_id AND (p.posted_date IS NULL OR p.posted_date <= s.day)
    GROUP BY s.day, p.campaign_id, p.note_id
),

post_ids AS (
    SELECT DISTINCT note_id FROM campaign_posts WHERE note_id IS NOT NULL
),

-- D's note_metrics row of each post (note_metrics is keyed by (snapshot_date, note_id): the order only makes the
-- pick deterministic should a duplicate ever reach it)
metrics AS (
    SELECT *
    FROM note_metrics
    WHERE note_id IN (SELECT note_id FROM post_ids)
    QUALIFY row_number() OVER (PARTITION BY snapshot_date, note_id
                               ORDER BY user_id NULLS LAST, engagements DESC NULLS LAST) = 1
),

-- the posts' crawls; a crawl is its note's latest from its own day until the day before the next crawl, and
-- D sees only the crawls of its own window (D - $window_days .. D), as a one-day run does
crawls AS (
    SELECT note_id, user_id, engagements, saves, is_disclosed,
           timezone('Asia/Shanghai', published_at)::DATE AS published_day,
           coalesce(title, '') || chr(10) || coalesce(description, '') || chr(10)
               || coalesce(array_to_string(list_filter(tags, lambda t: t IS NOT NULL), ' '), '') AS text,
           snapshot_date AS crawl_day,
           lead(snapshot_date) OVER (PARTITION BY note_id ORDER BY snapshot_date, crawled_at) AS next_crawl_day
    FROM notes
    WHERE note_id IN (SELECT note_id FROM post_ids)
),

-- each (day, campaign, note) with its measures as of D
campaign_notes AS (
    SELECT p.day, p.campaign_id, p.note_id, p.fee_cny, p.posted_date,
           coalesce(p.user_id, n.user_id, m.user_id) AS user_id,
           m.note_id IS NOT NULL
               AND (m.user_id IS NOT NULL OR m.published_date IS NOT NULL OR m.engagements IS NOT NULL) AS in_nm,
           n.note_id IS NOT NULL AS crawled,
           m.eng_30d, m.engagements AS m_engagements, m.saves AS m_saves, m.er_7d, m.is_disclosed AS m_disclosed,
           m.published_date, n.engagements AS n_engagements, n.saves AS n_saves, n.is_disclosed AS n_disclosed,
           n.published_day, n.text
    FROM posts p
    LEFT JOIN metrics m ON m.snapshot_date = p.day AND m.note_id = p.note_id
    LEFT JOIN crawls n ON n.note_id = p.note_id AND n.crawl_day BETWEEN p.day - $window_days::INTEGER AND p.day
                      AND (n.next_crawl_day IS NULL OR p.day < n.next_crawl_day)
),

measured AS MATERIALIZED (
    SELECT row_number() OVER () AS rid, day, campaign_id, note_id, user_id, fee_cny,
           coalesce(eng_30d,
                    CASE WHEN in_nm THEN m_engagements END,
                    CASE WHEN NOT in_nm AND crawled THEN n_engagements END)::DOUBLE AS eng,
           coalesce(CASE WHEN in_nm THEN m_saves END,
                    CASE WHEN NOT in_nm AND crawled THEN n_saves END)::DOUBLE AS saves,
           er_7d AS er7,
           CASE WHEN crawled OR in_nm THEN (CASE WHEN crawled THEN n_disclosed ELSE m_disclosed END)::DOUBLE
           END AS disclosed,
           coalesce(published_date, published_day, posted_date) AS target_day,
           CASE WHEN crawled THEN text END AS text
    FROM campaign_notes
),

-- keyword coverage: 1 when the crawled text contains one of the campaign's target keywords, 0 when not, null
-- without a crawl
coverage AS (
    SELECT m.rid,
           CASE WHEN m.text IS NULL THEN NULL
                WHEN bool_or(k.keyword IS NOT NULL AND length(k.keyword) > 0
                             AND contains(lower(m.text), lower(k.keyword))) THEN 1.0
                ELSE 0.0 END AS kwhit
    FROM measured m
    LEFT JOIN campaign_keywords k ON k.campaign_id = m.campaign_id
    GROUP BY m.rid, m.text
),

snapshots AS (
    SELECT user_id, snapshot_date,
           coalesce(tier_of(followers, $tier_bounds), tier) AS tier
    FROM creators
    WHERE user_id IN (SELECT user_id FROM measured)
    QUALIFY row_number() OVER (PARTITION BY user_id, snapshot_date ORDER BY crawled_at DESC NULLS FIRST) = 1
),

-- the author's snapshot of D's window (D - $window_days .. D) nearest to the publish day (the earlier on a tie)
nearest AS (
    SELECT m.rid, s.tier
    FROM measured m
    JOIN snapshots s ON s.user_id = m.user_id AND s.snapshot_date BETWEEN m.day - $window_days::INTEGER AND m.day
    QUALIFY row_number() OVER (PARTITION BY m.rid
                               ORDER BY abs(s.snapshot_date - m.target_day) NULLS LAST, s.snapshot_date) = 1
),

tiered AS (
    SELECT m.* EXCLUDE (rid), c.kwhit, coalesce(t.tier, 'unknown') AS tier
    FROM measured m
    JOIN coverage c USING (rid)
    LEFT JOIN nearest t USING (rid)
),

both_levels AS (
    SELECT * FROM tiered
    UNION ALL
    SELECT * REPLACE ('all' AS tier) FROM tiered
),

agg AS (
    SELECT day, campaign_id, tier,
           count(DISTINCT user_id)                                       AS creators,
           count(DISTINCT note_id)                                       AS notes,
           CASE WHEN count(fee_cny) > 0 THEN fsum(fee_cny) END           AS spend_cny,
           CASE WHEN count(eng) > 0 THEN fsum(eng) END                   AS engagements,
           CASE WHEN count(saves) > 0 THEN fsum(saves) END               AS saves,
           median(er7)                                                   AS median_er_7d,
           avg(kwhit)                                                    AS keyword_coverage,
           avg(disclosed)                                                AS disclosure_rate,
           count(eng)                                                    AS notes_measured,
           CASE WHEN count(fee_cny) FILTER (WHERE eng IS NOT NULL) > 0
                THEN fsum(fee_cny) FILTER (WHERE eng IS NOT NULL) END    AS spend_measured_cny
    FROM both_levels
    GROUP BY day, campaign_id, tier
),

-- every started campaign has an `all` row, even before its first post
rows AS (
    SELECT * FROM agg
    UNION ALL
    SELECT s.day, s.campaign_id, 'all', 0, 0, 0.0, NULL, NULL, NULL, NULL, NULL, 0, NULL
    FROM started s
    WHERE NOT EXISTS (SELECT 1 FROM agg a WHERE a.day = s.day AND a.campaign_id = s.campaign_id AND a.tier = 'all')
)

SELECT r.day                                                            AS snapshot_date,
       r.campaign_id,
       c.brand,
       c.phase,
       r.tier,
       r.creators,
       r.notes,
       r.spend_cny,
       r.engagements,
       r.saves,
       CASE WHEN r.engagements <> 0 THEN r.spend_cny / r.engagements END AS cpe_cny,
       CASE WHEN r.saves <> 0 THEN r.spend_cny / r.saves END           AS cost_per_save_cny,
       r.median_er_7d,
       r.keyword_coverage,
       r.disclosure_rate,
       CASE WHEN r.tier = 'all' THEN r.creators >= $min_creators END    AS density_ok,
       r.notes_measured,
       r.spend_measured_cny,
       CASE WHEN r.engagements <> 0 THEN r.spend_measured_cny / r.engagements END AS matched_cpe_cny
FROM rows r
LEFT JOIN campaigns c USING (campaign_id)
ORDER BY snapshot_date, r.campaign_id,
         CASE r.tier WHEN 'all' THEN 0 WHEN 'nano' THEN 1 WHEN 'micro' THEN 2 WHEN 'mid' THEN 3 WHEN 'macro' THEN 4
                     WHEN 'top' THEN 5 WHEN 'unknown' THEN 6 ELSE 7 END,
         r.tier
