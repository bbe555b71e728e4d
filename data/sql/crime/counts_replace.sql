-- The counts per LSOA (of both generations), month, crime type and force, and per location
-- description, of the force-months this import replaced: counted from the crimes it stored
-- for them (those staged, less any dropped with only_loaded; the older ones were deleted),
-- so that they always equal a count over the crimes (migration 0020); counts_merge.sql then
-- writes them into each count table.
CREATE TEMP TABLE crime_replaced_months ON COMMIT DROP AS
SELECT DISTINCT force, month FROM crime_stage;
CREATE TEMP TABLE crime_lsoa_counted ON COMMIT DROP AS
SELECT g.generation, g.code AS lsoa_code, s.month, s.crime_type, s.force, count(*) AS crimes,
       count(s.location) AS located
FROM crime_stage s
JOIN crime_placed p ON p.place_id = s.place_id
CROSS JOIN LATERAL (VALUES (2011, p.lsoa11_code), (2021, p.lsoa21_code)) g (generation, code)
WHERE g.code IS NOT NULL AND NOT (%(only_loaded)s AND p.outside_boundaries)
GROUP BY g.generation, g.code, s.month, s.crime_type, s.force;
CREATE TEMP TABLE crime_location_counted ON COMMIT DROP AS
SELECT g.generation, g.code AS lsoa_code, s.month, s.crime_type, s.force, s.location,
       count(*) AS crimes
FROM crime_stage s
JOIN crime_placed p ON p.place_id = s.place_id
CROSS JOIN LATERAL (VALUES (2011, p.lsoa11_code), (2021, p.lsoa21_code)) g (generation, code)
WHERE s.location IS NOT NULL AND g.code IS NOT NULL
  AND NOT (%(only_loaded)s AND p.outside_boundaries)
GROUP BY g.generation, g.code, s.month, s.crime_type, s.force, s.location;
