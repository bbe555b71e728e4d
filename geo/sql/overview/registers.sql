-- What the registers hold: assets by source, programmes and neighbourhood groups, each split
-- by whether it is illustrative (example or synthetic) or real.
SELECT 'assets' AS register_name, a.source AS source, a.is_example AS is_illustrative, count(*) AS entries
FROM asset a GROUP BY a.source, a.is_example
UNION ALL
SELECT 'programmes', 'programmes', p.is_example, count(*) FROM grant_programme p GROUP BY p.is_example
UNION ALL
SELECT 'groups', 'groups', g.is_synthetic, count(*) FROM community_group g GROUP BY g.is_synthetic
ORDER BY 1, 2, 3;
