-- A ward's LSOAs, in the LSOA generation whose lookup names the ward (2024 wards first).
SELECT l.vintage AS generation, w.name, array_agg(l.code ORDER BY l.code) AS codes
FROM lsoa l
JOIN ward w ON w.vintage = l.ward_vintage AND w.code = l.ward_code
WHERE l.ward_code = %(code)s
GROUP BY l.vintage, w.name
ORDER BY l.vintage DESC
LIMIT 1;
