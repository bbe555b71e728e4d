-- Place every staged crime in areas. police.uk's LSOA code, where given, is the truth; else
-- point in polygon in the generation of the month's rule (2011 before first_month_2021, 2021
-- from it). The other generation follows from the ONS best-fit lookup (of several parts, the
-- one holding the point), then ward and district (2021 generation first).
CREATE TEMP TABLE crime_points ON COMMIT DROP AS
SELECT p.lon, p.lat, p.geom, p.geom_4326, ST_Transform(p.geom_4326, 3857) AS geom_3857,
       (SELECT l.code FROM lsoa l
        WHERE l.vintage = 2011 AND ST_Intersects(l.geom, p.geom) ORDER BY l.code LIMIT 1) AS pip11,
       (SELECT l.code FROM lsoa l
        WHERE l.vintage = 2021 AND ST_Intersects(l.geom, p.geom) ORDER BY l.code LIMIT 1) AS pip21
FROM (
    SELECT d.lon, d.lat, d.geom_4326, ST_Transform(d.geom_4326, 27700) AS geom
    FROM (SELECT lon, lat, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS geom_4326
          FROM (SELECT DISTINCT lon, lat FROM crime_stage WHERE lon IS NOT NULL) u) d
) p;
CREATE INDEX ON crime_points (lon, lat);
ANALYZE crime_points;

CREATE TEMP TABLE crime_given_codes ON COMMIT DROP AS
SELECT c.code,
       EXISTS (SELECT 1 FROM lsoa_2011_2021 k WHERE k.lsoa11_code = c.code)
           OR EXISTS (SELECT 1 FROM lsoa l WHERE l.vintage = 2011 AND l.code = c.code) AS in_2011,
       EXISTS (SELECT 1 FROM lsoa_2011_2021 k WHERE k.lsoa21_code = c.code)
           OR EXISTS (SELECT 1 FROM lsoa l WHERE l.vintage = 2021 AND l.code = c.code) AS in_2021
FROM (SELECT DISTINCT lsoa_code_given AS code FROM crime_stage
      WHERE lsoa_code_given IS NOT NULL) c;

CREATE TEMP TABLE crime_assigned ON COMMIT DROP AS
WITH ruled AS (
    SELECT s.*, p.geom, p.geom_4326, p.geom_3857, p.pip11, p.pip21,
           CASE WHEN s.month < %(first_month_2021)s THEN 2011 ELSE 2021 END AS rule_generation,
           g.in_2011, g.in_2021
    FROM crime_stage s
    LEFT JOIN crime_points p ON p.lon = s.lon AND p.lat = s.lat
    LEFT JOIN crime_given_codes g ON g.code = s.lsoa_code_given
), given AS (
    SELECT r.*,
           CASE WHEN r.lsoa_code_given IS NULL THEN NULL
                WHEN r.rule_generation = 2011 AND r.in_2011 THEN 2011
                WHEN r.rule_generation = 2021 AND r.in_2021 THEN 2021
                WHEN r.in_2011 THEN 2011
                WHEN r.in_2021 THEN 2021
                ELSE r.rule_generation END AS given_generation
    FROM ruled r
), primary_code AS (
    SELECT g.*,
           CASE WHEN g.given_generation = 2011 THEN g.lsoa_code_given
                WHEN g.given_generation IS NULL AND g.rule_generation = 2011 THEN g.pip11
           END AS lsoa11_primary,
           CASE WHEN g.given_generation = 2021 THEN g.lsoa_code_given
                WHEN g.given_generation IS NULL AND g.rule_generation = 2021 THEN g.pip21
           END AS lsoa21_primary,
           CASE WHEN g.given_generation = 2011 THEN g.pip11
                WHEN g.given_generation = 2021 THEN g.pip21 END AS pip_in_given_generation
    FROM given g
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
SELECT b.load_id, b.force, b.month, b.crime_type, b.crime_type_known, b.crime_ref, b.location,
       b.lsoa_code_given, b.given_generation::smallint AS lsoa_given_vintage,
       CASE WHEN b.lsoa_code_given IS NOT NULL THEN 'police.uk'
            WHEN coalesce(b.lsoa11_primary, b.lsoa21_primary) IS NOT NULL THEN 'point_in_polygon'
       END AS lsoa_assigned_by,
       b.lsoa11_code, b.lsoa21_code,
       coalesce(l21.ward_code, l11.ward_code) AS ward_code,
       coalesce(l21.lad_code, l11.lad_code) AS lad_code,
       b.h3_cell, b.h3_fid,
       b.geom IS NULL AS no_location,
       (b.geom IS NOT NULL OR b.lsoa_code_given IS NOT NULL)
           AND l21.code IS NULL AND l11.code IS NULL AS outside_boundaries,
       b.geom, b.geom_4326, b.geom_3857,
       b.rule_generation, b.pip_in_given_generation
FROM both_generations b
LEFT JOIN lsoa l21 ON l21.vintage = 2021 AND l21.code = b.lsoa21_code
LEFT JOIN lsoa l11 ON l11.vintage = 2011 AND l11.code = b.lsoa11_code;
