-- The counts per LSOA (of both generations), month, crime type and force, and per location
-- description, of the force-months this import replaced: counted from the crimes it stored
-- for them (those staged, less any dropped with only_loaded; the older ones were deleted),
-- so that they always equal a count over the crimes (migration 0018). Only what changed is
-- written (a re-import of the same files writes nothing here), in the order of the keys
-- (inserting into the primary keys in order is the cheaper).
CREATE TEMP TABLE crime_replaced_months ON COMMIT DROP AS
SELECT DISTINCT force, month FROM crime_stage;
CREATE TEMP TABLE crime_counted ON COMMIT DROP AS
SELECT g.generation, g.code AS lsoa_code, s.month, s.crime_type, s.force, s.location
FROM crime_stage s
JOIN crime_placed p ON p.place_id = s.place_id
CROSS JOIN LATERAL (VALUES (2011, p.lsoa11_code), (2021, p.lsoa21_code)) g (generation, code)
WHERE g.code IS NOT NULL AND NOT (%(only_loaded)s AND p.outside_boundaries);
CREATE TEMP TABLE crime_lsoa_counted ON COMMIT DROP AS
SELECT generation, lsoa_code, month, crime_type, force, count(*) AS crimes,
       count(location) AS located
FROM crime_counted
GROUP BY generation, lsoa_code, month, crime_type, force;
CREATE TEMP TABLE crime_location_counted ON COMMIT DROP AS
SELECT generation, lsoa_code, month, crime_type, force, location, count(*) AS crimes
FROM crime_counted
WHERE location IS NOT NULL
GROUP BY generation, lsoa_code, month, crime_type, force, location;
DELETE FROM crime_lsoa_count c
USING crime_replaced_months s
WHERE c.force = s.force AND c.month = s.month
  AND NOT EXISTS (
      SELECT 1 FROM crime_lsoa_counted n
      WHERE n.generation = c.generation AND n.lsoa_code = c.lsoa_code AND n.month = c.month
        AND n.crime_type = c.crime_type AND n.force = c.force
  );
DELETE FROM crime_location_count c
USING crime_replaced_months s
WHERE c.force = s.force AND c.month = s.month
  AND NOT EXISTS (
      SELECT 1 FROM crime_location_counted n
      WHERE n.generation = c.generation AND n.lsoa_code = c.lsoa_code AND n.month = c.month
        AND n.crime_type = c.crime_type AND n.force = c.force AND n.location = c.location
  );
INSERT INTO crime_lsoa_count AS c (generation, lsoa_code, month, crime_type, force, crimes,
                                   located)
SELECT generation, lsoa_code, month, crime_type, force, crimes, located
FROM crime_lsoa_counted
ORDER BY generation, lsoa_code, month, crime_type, force
ON CONFLICT (generation, lsoa_code, month, crime_type, force) DO UPDATE
SET crimes = EXCLUDED.crimes, located = EXCLUDED.located
WHERE (c.crimes, c.located) IS DISTINCT FROM (EXCLUDED.crimes, EXCLUDED.located);
INSERT INTO crime_location_count AS c (generation, lsoa_code, month, crime_type, force,
                                       location, crimes)
SELECT generation, lsoa_code, month, crime_type, force, location, crimes
FROM crime_location_counted
ORDER BY generation, lsoa_code, month, crime_type, force, location
ON CONFLICT (generation, lsoa_code, month, crime_type, force, location) DO UPDATE
SET crimes = EXCLUDED.crimes
WHERE c.crimes IS DISTINCT FROM EXCLUDED.crimes;
