-- After point in polygon in 2011 LSOAs (assign.sql has the whole sequence).
-- Each place's generation of police.uk's code (the rule's, unless the code is only of the
-- other one), its 2011 LSOA by point in polygon, and its primary 2011 LSOA if that is the
-- generation that decides.
CREATE TEMP TABLE crime_places ON COMMIT DROP AS
WITH given AS (
    SELECT s.*, p11.code AS pip11,
           CASE WHEN s.lsoa_code_given IS NULL THEN NULL
                WHEN s.rule_generation = 2011 AND g.in_2011 THEN 2011
                WHEN s.rule_generation = 2021 AND g.in_2021 THEN 2021
                WHEN g.in_2011 THEN 2011
                WHEN g.in_2021 THEN 2021
                ELSE s.rule_generation END AS given_generation
    FROM crime_place_stage s
    LEFT JOIN crime_given_codes g ON g.code = s.lsoa_code_given
    LEFT JOIN crime_pip p11 ON p11.generation = 2011 AND p11.lon = s.lon AND p11.lat = s.lat
)
SELECT g.*,
       CASE WHEN g.given_generation = 2011 THEN g.lsoa_code_given
            WHEN g.given_generation IS NULL AND g.rule_generation = 2011 THEN g.pip11
       END AS lsoa11_primary
FROM given g;

-- Point in polygon in 2021 LSOAs only for the points where it decides something: where the
-- 2021 generation is the primary one (by the month's rule or police.uk's code), or where the
-- primary 2011 LSOA has no single 2021 successor in the lookup (split, or not in it).
CREATE TEMP TABLE crime_points21 ON COMMIT DROP AS
WITH successors AS (
    SELECT k.lsoa11_code, count(*) AS n
    FROM lsoa_2011_2021 k
    WHERE k.lsoa11_code IN (SELECT lsoa11_primary FROM crime_places)
    GROUP BY k.lsoa11_code
), needed AS (
    SELECT DISTINCT c.lon, c.lat
    FROM crime_places c
    LEFT JOIN successors s ON s.lsoa11_code = c.lsoa11_primary
    WHERE c.lon IS NOT NULL
      AND (coalesce(c.given_generation, c.rule_generation) = 2021
           OR (c.lsoa11_primary IS NOT NULL AND coalesce(s.n, 0) <> 1))
)
SELECT p.lon, p.lat, p.geom
FROM crime_points p JOIN needed n ON n.lon = p.lon AND n.lat = p.lat
ORDER BY p.geom;
CREATE INDEX ON crime_points21 USING gist (geom);
