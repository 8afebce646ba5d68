-- brand_audience_affinity_rank: rank_in_brand over the rows of all buckets of creators (brand_audience_affinity.sql
-- run a bucket at a time ranks within its bucket only): 1 = highest affinity for the brand on the day (ties: more
-- shared commenters, then user_id), as brand_audience_affinity.sql ranks a one-bucket run.
--
-- Input: parts (brand_audience_affinity.sql's columns, the rows of every bucket). No parameters.
SELECT * EXCLUDE (rank_in_brand),
       row_number() OVER (PARTITION BY snapshot_date, brand
                          ORDER BY affinity DESC, shared_commenters DESC, user_id) AS rank_in_brand
FROM parts
ORDER BY snapshot_date, brand, rank_in_brand
