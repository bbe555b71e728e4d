-- Place the import's places (data/crime.py's _Places: a map point, police.uk's LSOA code and
-- the generation of the month's rule), each once: police.uk's points repeat, so there are
-- about three crimes to a place. police.uk's LSOA code, where given, is the truth; else point
-- in polygon in the generation of the month's rule (2011 before first_month_2021, 2021 from
-- it). The other generation follows from the ONS best-fit lookup (of several parts, the one
-- holding the point), then ward and district (2021 generation first).

-- The distinct map points in the three projections the crime table keeps, in the order of
-- the geometry, so that the points inside one LSOA sit on few pages.
CREATE TEMP TABLE crime_points ON COMMIT DROP AS
SELECT d.lon, d.lat, ST_Transform(d.g, 27700) AS geom, d.g AS geom_4326,
       ST_Transform(d.g, 3857) AS geom_3857
FROM (SELECT u.lon, u.lat, ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326) AS g
      FROM (SELECT DISTINCT lon, lat FROM crime_place_stage WHERE lon IS NOT NULL) u) d
ORDER BY 3;
CREATE INDEX ON crime_points USING gist (geom);

-- Point in polygon in 2011 LSOAs, LSOA by LSOA (the LATERAL keeps that order): PostGIS
-- prepares a polygon it tests against many points in a row, which testing each point against
-- its candidate polygons never allows. Only LSOAs in the points' extent are visited. A point
-- on a boundary two LSOAs share takes the lowest code.
CREATE TEMP TABLE crime_pip ON COMMIT DROP AS
SELECT 2011 AS generation, p.lon, p.lat, min(l.code) AS code
FROM lsoa l
CROSS JOIN LATERAL (
    SELECT p.lon, p.lat FROM crime_points p WHERE ST_Intersects(l.geom, p.geom)
) p
WHERE l.vintage = 2011
  AND l.geom && (SELECT ST_SetSRID(ST_Extent(geom)::geometry, 27700) FROM crime_points)
GROUP BY p.lon, p.lat;

CREATE TEMP TABLE crime_given_codes ON COMMIT DROP AS
SELECT c.code,
       EXISTS (SELECT 1 FROM lsoa_2011_2021 k WHERE k.lsoa11_code = c.code)
           OR EXISTS (SELECT 1 FROM lsoa l WHERE l.vintage = 2011 AND l.code = c.code) AS in_2011,
       EXISTS (SELECT 1 FROM lsoa_2011_2021 k WHERE k.lsoa21_code = c.code)
           OR EXISTS (SELECT 1 FROM lsoa l WHERE l.vintage = 2021 AND l.code = c.code) AS in_2021
FROM (SELECT DISTINCT lsoa_code_given AS code FROM crime_place_stage
      WHERE lsoa_code_given IS NOT NULL) c;

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
    LEFT JOIN crime_pip p11 ON p11.lon = s.lon AND p11.lat = s.lat
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

INSERT INTO crime_pip (generation, lon, lat, code)
SELECT 2021, p.lon, p.lat, min(l.code)
FROM lsoa l
CROSS JOIN LATERAL (
    SELECT p.lon, p.lat FROM crime_points21 p WHERE ST_Intersects(l.geom, p.geom)
) p
WHERE l.vintage = 2021
  AND l.geom && (SELECT ST_SetSRID(ST_Extent(geom)::geometry, 27700) FROM crime_points21)
GROUP BY p.lon, p.lat;

-- Each place in both generations, its ward, district, cell and point.
CREATE TEMP TABLE crime_placed ON COMMIT DROP AS
WITH primary_code AS (
    SELECT c.*, p21.code AS pip21,
           CASE WHEN c.given_generation = 2021 THEN c.lsoa_code_given
                WHEN c.given_generation IS NULL AND c.rule_generation = 2021 THEN p21.code
           END AS lsoa21_primary,
           CASE WHEN c.given_generation = 2011 THEN c.pip11
                WHEN c.given_generation = 2021 THEN p21.code END AS pip_in_given_generation
    FROM crime_places c
    LEFT JOIN crime_pip p21 ON p21.generation = 2021 AND p21.lon = c.lon AND p21.lat = c.lat
), both_generations AS (
    SELECT a.*,
           coalesce(a.lsoa11_primary, back.lsoa11_code,
                    CASE WHEN a.lsoa21_primary IS NOT NULL THEN a.pip11 END) AS lsoa11_code,
           coalesce(a.lsoa21_primary, fwd.lsoa21_code,
                    CASE WHEN a.lsoa11_primary IS NOT NULL THEN a.pip21 END) AS lsoa21_code
    FROM primary_code a
    LEFT JOIN LATERAL (
        SELECT k.lsoa21_code FROM lsoa_2011_2021 k
        WHERE a.lsoa11_primary IS NOT NULL AND k.lsoa11_code = a.lsoa11_primary
        ORDER BY (k.lsoa21_code IS NOT DISTINCT FROM a.pip21) DESC, k.lsoa21_code LIMIT 1
    ) fwd ON true
    LEFT JOIN LATERAL (
        SELECT k.lsoa11_code FROM lsoa_2011_2021 k
        WHERE a.lsoa11_primary IS NULL AND a.lsoa21_primary IS NOT NULL
          AND k.lsoa21_code = a.lsoa21_primary
        ORDER BY (k.lsoa11_code IS NOT DISTINCT FROM a.pip11) DESC, k.lsoa11_code LIMIT 1
    ) back ON true
)
SELECT b.place_id, b.lsoa_code_given, b.given_generation::smallint AS lsoa_given_vintage,
       CASE WHEN b.lsoa_code_given IS NOT NULL THEN 'police.uk'
            WHEN coalesce(b.lsoa11_primary, b.lsoa21_primary) IS NOT NULL THEN 'point_in_polygon'
       END AS lsoa_assigned_by,
       b.lsoa11_code, b.lsoa21_code,
       coalesce(l21.ward_code, l11.ward_code) AS ward_code,
       coalesce(l21.lad_code, l11.lad_code) AS lad_code,
       b.h3_cell, b.h3_fid,
       p.geom IS NULL AS no_location,
       (p.geom IS NOT NULL OR b.lsoa_code_given IS NOT NULL)
           AND l21.code IS NULL AND l11.code IS NULL AS outside_boundaries,
       p.geom, p.geom_4326, p.geom_3857,
       b.rule_generation, b.pip_in_given_generation
FROM both_generations b
LEFT JOIN crime_points p ON p.lon = b.lon AND p.lat = b.lat
LEFT JOIN lsoa l21 ON l21.vintage = 2021 AND l21.code = b.lsoa21_code
LEFT JOIN lsoa l11 ON l11.vintage = 2011 AND l11.code = b.lsoa11_code;
