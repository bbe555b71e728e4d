-- Which forces' crimes fall in which districts: the force-months an area's figures depend on.
DELETE FROM crime_force_lad;
INSERT INTO crime_force_lad (force, lad_code, crimes)
SELECT force, lad_code, count(*) FROM crime WHERE lad_code IS NOT NULL GROUP BY force, lad_code;
