-- The force-months now held, the load that supplied each, the crime types its files carry
-- (a type a file does not carry has no data for the month, not zero) and the crimes stored.
WITH staged AS (
    SELECT DISTINCT force, month, load_id FROM crime_stage
), typed AS (
    SELECT s.force, s.month, min(s.load_id) AS load_id,
           array_agg(DISTINCT t.crime_type ORDER BY t.crime_type) AS crime_types
    FROM staged s
    JOIN crime_load l ON l.id = s.load_id
    CROSS JOIN LATERAL jsonb_array_elements_text(l.notes -> 'crime_types') AS t (crime_type)
    GROUP BY s.force, s.month
), stored AS (
    SELECT c.force, c.month, count(*) AS crimes, count(*) FILTER (WHERE c.no_location) AS no_location
    FROM crime c JOIN typed t ON t.force = c.force AND t.month = c.month
    GROUP BY c.force, c.month
)
INSERT INTO crime_month (force, month, load_id, crime_types, crimes, no_location)
SELECT t.force, t.month, t.load_id, t.crime_types, coalesce(s.crimes, 0),
       coalesce(s.no_location, 0)
FROM typed t LEFT JOIN stored s ON s.force = t.force AND s.month = t.month
ON CONFLICT (force, month) DO UPDATE
SET load_id = EXCLUDED.load_id, crime_types = EXCLUDED.crime_types, crimes = EXCLUDED.crimes,
    no_location = EXCLUDED.no_location;
