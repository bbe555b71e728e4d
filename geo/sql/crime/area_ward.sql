-- A ward's LSOAs, in the LSOA generation whose lookup names the ward (2024 wards first; crimes
-- carry LSOAs of these two generations only, and naming them lets the index be used).
SELECT l.vintage AS generation, w.name, array_agg(l.code ORDER BY l.code) AS codes
FROM lsoa l
JOIN ward w ON w.vintage = l.ward_vintage AND w.code = l.ward_code
WHERE l.vintage IN (2011, 2021) AND l.ward_code = %(code)s
GROUP BY l.vintage, w.name
ORDER BY l.vintage DESC
LIMIT 1;
