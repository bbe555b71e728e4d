-- The districts of the current edition that have LSOAs loaded, by name.
SELECT DISTINCT l.code, l.name
FROM lad l
JOIN index_edition e ON e.is_current AND l.vintage = e.lad_vintage
WHERE EXISTS (SELECT 1 FROM lsoa s WHERE s.vintage = e.lsoa_vintage AND s.lad_code = l.code)
ORDER BY l.name;
