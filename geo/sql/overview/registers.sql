-- What the registers hold: assets by source, programmes, neighbourhood groups, neighbourhood
-- planning areas and plans, and the records imported from others' files (street-level crime,
-- council payments, 360Giving grants), each split by whether it is illustrative (example,
-- synthetic or 360Giving's TESTDATA) or real.
SELECT 'assets' AS register_name, a.source AS source, a.is_example AS is_illustrative, count(*) AS entries
FROM asset a GROUP BY a.source, a.is_example
UNION ALL
SELECT 'programmes', 'programmes', p.is_example, count(*) FROM grant_programme p GROUP BY p.is_example
UNION ALL
SELECT 'groups', 'groups', g.is_synthetic, count(*) FROM community_group g GROUP BY g.is_synthetic
UNION ALL
SELECT 'neighbourhood areas', 'neighbourhood areas', n.is_example, count(*)
FROM neighbourhood_area n GROUP BY n.is_example
UNION ALL
SELECT 'neighbourhood plans', 'neighbourhood plans', n.is_example, count(*)
FROM neighbourhood_plan n GROUP BY n.is_example
UNION ALL
SELECT 'street-level crime', regexp_replace(l.source_file, '^.*/', ''), false, count(*)
FROM crime c JOIN crime_load l ON l.id = c.load_id GROUP BY 2
UNION ALL
SELECT 'council payments', f.file_name, false, f.line_count FROM spending_file f
UNION ALL
SELECT '360Giving grants', i.source_name, i.source_name LIKE 'TESTDATA%', i.grant_count
FROM grant_import i
ORDER BY 1, 2, 3;
