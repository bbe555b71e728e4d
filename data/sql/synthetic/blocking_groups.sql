-- Real (non-synthetic) groups recorded as started by a synthetic organiser: replacing the
-- synthetic organisers would have to change those groups, so the generator refuses instead.
SELECT g.reference, o.reference
FROM community_group g
JOIN organiser o ON o.id = g.started_by_organiser_id
WHERE NOT g.is_synthetic AND o.is_synthetic
ORDER BY g.reference
LIMIT 5;
