-- After point in polygon in 2021 LSOAs (assign.sql has the whole sequence).
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
