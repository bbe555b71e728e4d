-- (Part of forces.sql.) The forces of the crimes in some LSOAs of one generation (for LSOAs
-- outside the loaded boundaries), from their counts.
SELECT c.force FROM crime_lsoa_count c
WHERE c.generation = %(generation)s AND c.lsoa_code = ANY(%(codes)s)
