-- brand_audience_affinity_note_brands: per day D of the run, the registered brands each note lists in its latest
-- crawl on or before D (`latest`, brand_audience_affinity_latest.sql), with the note's author and publish day. A
-- note mentions brand B when its `brands` list B (lower(trim) match with brands.csv). Computed once per run; read by
-- brand_audience_affinity_audience.sql (whose notes a commenter is "the brand's audience" of) and by
-- brand_audience_affinity.sql (mentions_brand).
--
-- Inputs: latest(day, note_id, crawl: author, brands, published_day), brands(brand). No parameters.
WITH brand_keys AS (
    SELECT DISTINCT brand, lower(trim(brand)) AS brand_key
    FROM brands
    WHERE brand IS NOT NULL AND trim(brand) <> ''
)
SELECT DISTINCT l.day, l.note_id, l.author, l.published_day, b.brand
FROM (SELECT day, note_id, crawl.author AS author, crawl.published_day AS published_day,
             lower(trim(unnest(crawl.brands))) AS brand_key
      FROM latest WHERE len(crawl.brands) > 0) l
JOIN brand_keys b USING (brand_key)
