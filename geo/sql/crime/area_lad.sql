-- A district's LSOAs (2021 generation first).
SELECT l.vintage AS generation, d.name, array_agg(l.code ORDER BY l.code) AS codes
FROM lsoa l
JOIN lad d ON d.vintage = l.lad_vintage AND d.code = l.lad_code
WHERE l.lad_code = %(code)s
GROUP BY l.vintage, d.name
ORDER BY l.vintage DESC
LIMIT 1;
