-- The planned meetings, projects and events of the synthetic groups.
INSERT INTO group_activity (group_id, kind, held_on, title, attendance, recorded_by)
SELECT g.id, a.kind, a.held_on, a.title, a.attendance, %(actor)s
FROM synthetic_activity_plan a
JOIN synthetic_group_plan p ON p.ordinal = a.group_ordinal
JOIN community_group g ON g.name = p.name AND g.is_synthetic
ORDER BY g.id, a.held_on;
