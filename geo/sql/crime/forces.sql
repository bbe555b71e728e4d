-- The forces whose crimes fall in some districts.
SELECT DISTINCT force FROM crime_force_lad WHERE lad_code = ANY(%(lad_codes)s) ORDER BY force;
