-- Place the import's places (data/crime.py's _Places: a map point, police.uk's LSOA code and
-- the generation of the month's rule), each once: police.uk's points repeat, so there are
-- about three crimes to a place. police.uk's LSOA code, where given, is the truth; else point
-- in polygon in the generation of the month's rule (2011 before first_month_2021, 2021 from
-- it). The other generation follows from the ONS best-fit lookup (of several parts, the one
-- holding the point), then ward and district (2021 generation first).
-- This file: the distinct points and police.uk's codes; then point_in_polygon.sql (2011),
-- assign_places.sql, point_in_polygon.sql (2021) and assign_placed.sql.

-- The distinct map points in the three projections the crime table keeps, in the order of
-- the geometry, so that the points inside one LSOA sit on few pages.
CREATE TEMP TABLE crime_points ON COMMIT DROP AS
SELECT d.lon, d.lat, ST_Transform(d.g, 27700) AS geom, d.g AS geom_4326,
       ST_Transform(d.g, 3857) AS geom_3857
FROM (SELECT u.lon, u.lat, ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326) AS g
      FROM (SELECT DISTINCT lon, lat FROM crime_place_stage WHERE lon IS NOT NULL) u) d
ORDER BY 3;
CREATE INDEX ON crime_points USING gist (geom);

-- What each point in polygon found: (generation, point) -> the lowest LSOA code holding it.
CREATE TEMP TABLE crime_pip (
    generation smallint NOT NULL,
    lon double precision NOT NULL,
    lat double precision NOT NULL,
    code text NOT NULL
) ON COMMIT DROP;

CREATE TEMP TABLE crime_given_codes ON COMMIT DROP AS
SELECT c.code,
       EXISTS (SELECT 1 FROM lsoa_2011_2021 k WHERE k.lsoa11_code = c.code)
           OR EXISTS (SELECT 1 FROM lsoa l WHERE l.vintage = 2011 AND l.code = c.code) AS in_2011,
       EXISTS (SELECT 1 FROM lsoa_2011_2021 k WHERE k.lsoa21_code = c.code)
           OR EXISTS (SELECT 1 FROM lsoa l WHERE l.vintage = 2021 AND l.code = c.code) AS in_2021
FROM (SELECT DISTINCT lsoa_code_given AS code FROM crime_place_stage
      WHERE lsoa_code_given IS NOT NULL) c;

