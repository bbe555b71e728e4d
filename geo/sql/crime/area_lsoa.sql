-- An LSOA by code, in either generation (2021 first), or the generation crimes carry it in
-- (crimes carry LSOAs of these two generations only; naming them lets the key be used).
SELECT l.vintage AS generation, l.code, l.name, false AS outside
FROM lsoa l WHERE l.vintage IN (2011, 2021) AND l.code = %(code)s
UNION ALL
SELECT x.generation, %(code)s, NULL, true
FROM (
    SELECT 2021 AS generation
    WHERE EXISTS (SELECT 1 FROM crime_lsoa_count WHERE generation = 2021 AND lsoa_code = %(code)s)
    UNION ALL
    SELECT 2011
    WHERE EXISTS (SELECT 1 FROM crime_lsoa_count WHERE generation = 2011 AND lsoa_code = %(code)s)
) x
ORDER BY outside, generation DESC
LIMIT 1;
