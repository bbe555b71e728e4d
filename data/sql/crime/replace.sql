-- Re-importing a force-month replaces it: delete what was held for the force-months staged.
DELETE FROM crime c
USING (SELECT DISTINCT force, month FROM crime_stage) s
WHERE c.force = s.force AND c.month = s.month;
