-- (Part of forces.sql.) The forces of the crimes an area selects (for areas drawn or outside
-- the loaded boundaries).
SELECT c.force FROM crime c WHERE {area}
