-- The forces of the crimes an area selects (for areas outside the loaded boundaries).
SELECT DISTINCT force FROM crime c WHERE {area} ORDER BY force;
