-- (Part of forces.sql.) The forces whose crimes fall in the districts of some LSOAs of one
-- generation.
SELECT f.force
FROM lsoa l JOIN crime_force_lad f ON f.lad_code = l.lad_code
WHERE l.vintage = %(generation)s AND l.code = ANY(%(codes)s)
