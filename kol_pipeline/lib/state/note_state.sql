-- note_state (docs/metrics.md "Incremental state"; CONTRACT.md "Note engagement curve and longevity")
--
-- The note state of day D from the state of D - 1 and the cleaned notes partition of D. One row per note
-- published in the trailing $window_days days (pub_day >= D - 119 for 120) or observed in the trailing
-- $recent_days + 1 days (last_sd >= D - 91: the tier_benchmarks curve):
--   published_at, pub_day   the publish time first observed and its Asia/Shanghai date (never changed after)
--   first_sd, last_sd       snapshot days of the first and the latest observation
--   user_id .. is_disclosed the latest observation (author, crawl time, counts, category, brands, disclosure)
--   age_days                days from published_at to the latest crawl
--   c_age, c_E              the last point of the running-maximum curve (age, E); (0, 0) = the publish anchor
--   eng_hd                  E(h) for h = 2, 7, 30, 90: decided by the FIRST observation at or above age h
--                           (observation ages grow with the snapshot day, so the curve is append-only), by
--                           linear interpolation between the curve's previous point and that observation (the
--                           observation itself when its age is h); null when either is more than $max_gap_days
--                           from h. Never changes afterwards.
--   eng_hd_sd               the day E(h) became known (null when E(h) is null); eng_hd_done: it is decided
--   half_life_days          the smallest age t in [0, 30] with E(t) >= 0.5 * eng_30d, solved on the linear
--                           pieces of the curve (with the gap rule), set the day eng_30d is decided
--   curve_age, curve_E      the curve's points while eng_30d is undecided (emptied then, and for notes older than
--                           the window)
--   desc_chars, note_type, tag_count   the latest observation's content style (CONTRACT.md "Finding the right
--                           creators"): Unicode code points of the description, normal|video, number of tags
-- An observation adds a curve point when its age and engagements are known and the age is >= 0:
--   E = max(c_E, engagements) (the running maximum).
--
-- Inputs (views; kol_pipeline/lib/state/note_state.py registers them):
--   prev(note_state's columns but snapshot_date)   the state of D - 1 (no rows: no state)
--   notes(note_id, user_id, published_at, crawled_at, likes, saves, comments, shares, engagements, category,
--         brands, is_disclosed, note_type, description, tags, seq)
--                                                  the cleaned notes partition of D (seq: the row's position)
-- Parameters: $day (DATE), $window_days (INTEGER, 120), $recent_days (INTEGER, 91), $max_gap_days (DOUBLE),
--   $eps (DOUBLE: the tolerance of the gap rule's comparisons, 1e-9)

WITH
-- the day's latest crawl of each note (a cleaned partition holds one row per note; a null crawl time counts as
-- the latest, as a sort with nulls last would take it; of equal crawl times the later row, seq)
obs AS (
    SELECT note_id, user_id, published_at, crawled_at, likes, saves, comments, shares, engagements, category,
           brands, is_disclosed,
           length(description) AS desc_chars, note_type, len(tags) AS tag_count   -- code points, not bytes
    FROM notes
    WHERE note_id IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY note_id ORDER BY crawled_at DESC NULLS FIRST, seq DESC) = 1
),

-- the previous state and the day's observations side by side; a note enters the state the first day it is
-- observed with a publish time
joined AS (
    SELECT coalesce(p.note_id, o.note_id)                                       AS note_id,
           o.note_id IS NOT NULL                                                AS seen,
           p.note_id IS NULL                                                    AS is_new,
           CASE WHEN p.note_id IS NULL THEN o.published_at ELSE p.published_at END AS published_at,
           CASE WHEN p.note_id IS NULL THEN timezone('Asia/Shanghai', o.published_at)::DATE
                ELSE p.pub_day::DATE END                                        AS pub_day,
           CASE WHEN p.note_id IS NULL THEN $day::DATE ELSE p.first_sd::DATE END AS first_sd,
           CASE WHEN o.note_id IS NOT NULL THEN $day::DATE ELSE p.last_sd::DATE END AS last_sd,
           p.user_id AS p_user_id, p.crawled_at AS p_crawled_at, p.age_days AS p_age_days,
           p.likes AS p_likes, p.saves AS p_saves, p.comments AS p_comments, p.shares AS p_shares,
           p.engagements AS p_engagements, p.category AS p_category, p.brands AS p_brands,
           p.is_disclosed AS p_is_disclosed,
           p.desc_chars AS p_desc_chars, p.note_type AS p_note_type, p.tag_count AS p_tag_count,
           coalesce(p.c_age, 0.0)                                               AS p_c_age,
           coalesce(p.c_E, 0.0)                                                 AS p_c_E,
           p.eng_2d AS p_eng_2d, p.eng_2d_sd::DATE AS p_eng_2d_sd, coalesce(p.eng_2d_done, false) AS p_eng_2d_done,
           p.eng_7d AS p_eng_7d, p.eng_7d_sd::DATE AS p_eng_7d_sd, coalesce(p.eng_7d_done, false) AS p_eng_7d_done,
           p.eng_30d AS p_eng_30d, p.eng_30d_sd::DATE AS p_eng_30d_sd,
           coalesce(p.eng_30d_done, false)                                      AS p_eng_30d_done,
           p.eng_90d AS p_eng_90d, p.eng_90d_sd::DATE AS p_eng_90d_sd,
           coalesce(p.eng_90d_done, false)                                      AS p_eng_90d_done,
           p.half_life_days AS p_half_life_days,
           CASE WHEN p.note_id IS NULL THEN []::DOUBLE[] ELSE p.curve_age END   AS p_curve_age,
           CASE WHEN p.note_id IS NULL THEN []::DOUBLE[] ELSE p.curve_E END     AS p_curve_E,
           o.user_id, o.crawled_at, o.likes, o.saves, o.comments, o.shares, o.engagements, o.category, o.brands,
           o.is_disclosed, o.desc_chars, o.note_type, o.tag_count
    FROM prev p
    FULL OUTER JOIN obs o ON p.note_id = o.note_id
    WHERE p.note_id IS NOT NULL OR o.published_at IS NOT NULL
),

-- the observation's age (days since the first publish time, in nanoseconds as pandas counts them) and whether
-- it adds a curve point
aged AS (
    SELECT *,
           CASE WHEN seen THEN (epoch_ns(crawled_at) - epoch_ns(published_at))::DOUBLE / 1e9 / 86400.0 END AS age
    FROM joined
),
pointed AS MATERIALIZED (
    SELECT *,
           coalesce(seen AND age IS NOT NULL AND engagements IS NOT NULL AND age >= 0, false) AS is_point,
           CASE WHEN seen AND age IS NOT NULL AND engagements IS NOT NULL AND age >= 0
                THEN greatest(p_c_E, engagements::DOUBLE) END                  AS E
    FROM aged
),

-- E(h) at the observation that decides it: the curve's previous point (p_c_age, p_c_E) and this one (age, E)
decided AS (
    SELECT *,
           is_point AND NOT p_eng_2d_done AND age >= 2.0   AS decides_2,
           is_point AND NOT p_eng_7d_done AND age >= 7.0   AS decides_7,
           is_point AND NOT p_eng_30d_done AND age >= 30.0 AS decides_30,
           is_point AND NOT p_eng_90d_done AND age >= 90.0 AS decides_90,
           -- the gap rule: both points within max_gap_days of h (an observation exactly at h always passes)
           age = 2.0  OR (2.0  - p_c_age <= $max_gap_days + $eps AND age - 2.0  <= $max_gap_days + $eps) AS ok_2,
           age = 7.0  OR (7.0  - p_c_age <= $max_gap_days + $eps AND age - 7.0  <= $max_gap_days + $eps) AS ok_7,
           age = 30.0 OR (30.0 - p_c_age <= $max_gap_days + $eps AND age - 30.0 <= $max_gap_days + $eps) AS ok_30,
           age = 90.0 OR (90.0 - p_c_age <= $max_gap_days + $eps AND age - 90.0 <= $max_gap_days + $eps) AS ok_90,
           -- linear interpolation between the two points (the observation's E when it is at h)
           CASE WHEN age = 2.0 OR age - p_c_age <= 0 THEN E
                ELSE p_c_E + (2.0 - p_c_age) / (age - p_c_age) * (E - p_c_E) END  AS at_2,
           CASE WHEN age = 7.0 OR age - p_c_age <= 0 THEN E
                ELSE p_c_E + (7.0 - p_c_age) / (age - p_c_age) * (E - p_c_E) END  AS at_7,
           CASE WHEN age = 30.0 OR age - p_c_age <= 0 THEN E
                ELSE p_c_E + (30.0 - p_c_age) / (age - p_c_age) * (E - p_c_E) END AS at_30,
           CASE WHEN age = 90.0 OR age - p_c_age <= 0 THEN E
                ELSE p_c_E + (90.0 - p_c_age) / (age - p_c_age) * (E - p_c_E) END AS at_90
    FROM pointed
),
stepped AS MATERIALIZED (
    SELECT *,
           CASE WHEN decides_30 THEN CASE WHEN ok_30 THEN at_30 END ELSE p_eng_30d END AS new_eng_30d,
           -- the curve with this point, while eng_30d was undecided before it
           CASE WHEN is_point AND NOT p_eng_30d_done THEN list_append(coalesce(p_curve_age, []::DOUBLE[]), age)
                ELSE p_curve_age END                                           AS new_curve_age,
           CASE WHEN is_point AND NOT p_eng_30d_done THEN list_append(coalesce(p_curve_E, []::DOUBLE[]), E)
                ELSE p_curve_E END                                             AS new_curve_E
    FROM decided
),

-- half_life_days of the notes whose eng_30d is decided today: their curve, the publish anchor (0, 0) first, in
-- age order; the first point at or above the target 0.5 * eng_30d and the point before it are the crossing piece
half_life_curve AS (
    SELECT note_id, 0.5 * new_eng_30d AS target, 0.0 AS age, 0.0 AS E, 0 AS ord, 0 AS i
    FROM stepped WHERE decides_30 AND 0.5 * new_eng_30d > 0
    UNION ALL
    SELECT note_id, 0.5 * new_eng_30d AS target, unnest(new_curve_age) AS age, unnest(new_curve_E) AS E, 1 AS ord,
           generate_subscripts(new_curve_age, 1) AS i
    FROM stepped WHERE decides_30 AND 0.5 * new_eng_30d > 0
),
half_life_pieces AS (
    SELECT note_id, target, ord, i,
           lag(age) OVER w AS a0, lag(E) OVER w AS e0, age AS a1, E AS e1
    FROM half_life_curve
    WINDOW w AS (PARTITION BY note_id ORDER BY age, ord, i)
),
crossing AS (
    SELECT note_id, target, a0, e0, a1, e1,
           CASE WHEN target = e1 THEN a1 ELSE a0 + (target - e0) / (e1 - e0) * (a1 - a0) END AS t
    FROM half_life_pieces
    WHERE e1 >= target
    QUALIFY row_number() OVER (PARTITION BY note_id ORDER BY a1, ord, i) = 1
),
half_lives AS (
    SELECT note_id,
           CASE WHEN (target = e1 OR (t - a0 <= $max_gap_days + $eps AND a1 - t <= $max_gap_days + $eps))
                     AND t <= 30.0 + $eps
                THEN t END AS half_life_days
    FROM crossing
),

state AS (
    SELECT s.note_id,
           CASE WHEN seen THEN s.user_id ELSE p_user_id END                    AS user_id,
           published_at, pub_day, first_sd, last_sd,
           CASE WHEN seen THEN s.crawled_at ELSE p_crawled_at END              AS crawled_at,
           CASE WHEN seen THEN age ELSE p_age_days END                         AS age_days,
           CASE WHEN seen THEN likes ELSE p_likes END                          AS likes,
           CASE WHEN seen THEN saves ELSE p_saves END                          AS saves,
           CASE WHEN seen THEN comments ELSE p_comments END                    AS comments,
           CASE WHEN seen THEN shares ELSE p_shares END                        AS shares,
           CASE WHEN seen THEN engagements ELSE p_engagements END              AS engagements,
           CASE WHEN seen THEN category ELSE p_category END                    AS category,
           CASE WHEN seen THEN brands ELSE p_brands END                        AS brands,
           CASE WHEN seen THEN is_disclosed ELSE p_is_disclosed END            AS is_disclosed,
           CASE WHEN is_point THEN age ELSE p_c_age END                        AS c_age,
           CASE WHEN is_point THEN E ELSE p_c_E END                            AS c_E,
           CASE WHEN decides_2 THEN CASE WHEN ok_2 THEN at_2 END ELSE p_eng_2d END            AS eng_2d,
           CASE WHEN decides_2 THEN CASE WHEN ok_2 THEN $day::DATE END ELSE p_eng_2d_sd END   AS eng_2d_sd,
           p_eng_2d_done OR decides_2                                                         AS eng_2d_done,
           CASE WHEN decides_7 THEN CASE WHEN ok_7 THEN at_7 END ELSE p_eng_7d END            AS eng_7d,
           CASE WHEN decides_7 THEN CASE WHEN ok_7 THEN $day::DATE END ELSE p_eng_7d_sd END   AS eng_7d_sd,
           p_eng_7d_done OR decides_7                                                         AS eng_7d_done,
           new_eng_30d                                                                        AS eng_30d,
           CASE WHEN decides_30 THEN CASE WHEN ok_30 THEN $day::DATE END ELSE p_eng_30d_sd END AS eng_30d_sd,
           p_eng_30d_done OR decides_30                                                       AS eng_30d_done,
           CASE WHEN decides_90 THEN CASE WHEN ok_90 THEN at_90 END ELSE p_eng_90d END        AS eng_90d,
           CASE WHEN decides_90 THEN CASE WHEN ok_90 THEN $day::DATE END ELSE p_eng_90d_sd END AS eng_90d_sd,
           p_eng_90d_done OR decides_90                                                       AS eng_90d_done,
           CASE WHEN decides_30 THEN h.half_life_days ELSE p_half_life_days END AS half_life_days,
           -- the curve points are kept only while eng_30d is undecided and the note is in the window
           pub_day >= $day::DATE - ($window_days::INTEGER - 1)                AS in_window,
           CASE WHEN decides_30 OR NOT in_window THEN []::DOUBLE[] ELSE new_curve_age END AS curve_age,
           CASE WHEN decides_30 OR NOT in_window THEN []::DOUBLE[] ELSE new_curve_E END   AS curve_E,
           CASE WHEN seen THEN desc_chars ELSE p_desc_chars END                AS desc_chars,
           CASE WHEN seen THEN note_type ELSE p_note_type END                  AS note_type,
           CASE WHEN seen THEN tag_count ELSE p_tag_count END                  AS tag_count
    FROM stepped s
    LEFT JOIN half_lives h ON h.note_id = s.note_id
)

SELECT note_id, user_id, published_at,
       pub_day::TIMESTAMP AS pub_day, first_sd::TIMESTAMP AS first_sd, last_sd::TIMESTAMP AS last_sd,
       crawled_at, age_days, likes, saves, comments, shares, engagements, category, brands, is_disclosed,
       c_age, c_E,
       eng_2d, eng_2d_sd::TIMESTAMP AS eng_2d_sd, eng_2d_done,
       eng_7d, eng_7d_sd::TIMESTAMP AS eng_7d_sd, eng_7d_done,
       eng_30d, eng_30d_sd::TIMESTAMP AS eng_30d_sd, eng_30d_done,
       eng_90d, eng_90d_sd::TIMESTAMP AS eng_90d_sd, eng_90d_done,
       half_life_days, curve_age, curve_E, desc_chars, note_type, tag_count
FROM state
-- retention: the note window, and notes observed recently enough for the tier_benchmarks curve
WHERE in_window OR last_sd >= $day::DATE - $recent_days::INTEGER
ORDER BY note_id
