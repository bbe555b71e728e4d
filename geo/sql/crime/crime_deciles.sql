-- The Crime domain deciles of some LSOAs, in the edition on their generation.
WITH edition AS (
    SELECT code FROM index_edition WHERE lsoa_vintage = %(generation)s
    ORDER BY is_current DESC, code LIMIT 1
)
SELECT (SELECT code FROM edition) AS edition, v.decile, count(*) AS lsoas
FROM lsoa_index_value v
WHERE v.edition_code = (SELECT code FROM edition) AND v.domain_code = 'crime'
  AND v.lsoa_code = ANY(%(codes)s)
GROUP BY v.decile
ORDER BY v.decile;
