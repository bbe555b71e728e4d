-- The unit a click, postcode or code stands for in one edition's geography, and its LSOAs with
-- residents and index values: one statement where a click used to take three (the LSOA's
-- ward or district, its LSOAs, its districts' measures).
--
-- {unit_column} is the lsoa column that holds the unit's code (code, ward_code or lad_code,
-- from a fixed registry in geo/places.py); {with_lad_measures} is TRUE or FALSE. The unit is
-- %(unit_code)s when the caller names it; else the LSOA %(lsoa)s at level 'lsoa', or its ward
-- or district at level 'ward' or 'lad' (NULL when the LSOA or its district is not loaded).
-- One row per LSOA of the unit, by code (an LSOA needs residents and index values, as in
-- place_resolution/polygon_lsoas.sql), or one row with a NULL code when there is none. Every row carries the
-- data version (a cached programme catalogue is checked in the same snapshot); with
-- {with_lad_measures}, each district's summary measures come on its first LSOA.
--
-- No spatial test, and the choices that change the plan are in the text, not in values:
-- PostgreSQL then keeps one generic plan per prepared variant instead of planning every
-- click (planning took 0.5-0.8 ms, running 0.2 ms).
WITH here AS (
    SELECT l.ward_code, w.name AS ward_name, l.lad_code, d.name AS lad_name
    FROM lsoa l
    LEFT JOIN ward w ON w.vintage = l.ward_vintage AND w.code = l.ward_code
    JOIN lad d ON d.vintage = l.lad_vintage AND d.code = l.lad_code
    WHERE l.vintage = %(vintage)s::smallint AND l.code = %(lsoa)s::text
), unit AS (
    SELECT CASE WHEN %(unit_code)s::text IS NOT NULL THEN %(unit_code)s::text
                WHEN %(level)s::text = 'lsoa' THEN %(lsoa)s::text
                WHEN %(level)s::text = 'ward' THEN h.ward_code
                ELSE h.lad_code END AS code,
           CASE WHEN %(unit_code)s::text IS NOT NULL THEN NULL
                WHEN %(level)s::text = 'ward' THEN h.ward_name
                WHEN %(level)s::text = 'lad' THEN h.lad_name END AS name
    FROM (SELECT 1) AS one
    LEFT JOIN here h ON true
), valued AS (
    SELECT l.code, l.name, l.lad_code, p.residents, p.method, v.values,
           row_number() OVER (PARTITION BY l.lad_code ORDER BY l.code) AS nth_in_lad
    FROM unit u
    JOIN lsoa l ON l.vintage = %(vintage)s::smallint AND l.{unit_column} = u.code
    JOIN lsoa_population p ON p.edition_code = %(edition)s::text AND p.lsoa_code = l.code
    CROSS JOIN LATERAL (
        SELECT json_object_agg(x.domain_code, json_build_array(x.rank, x.decile)) AS values
        FROM lsoa_index_value x
        WHERE x.edition_code = %(edition)s::text AND x.lsoa_code = l.code
        HAVING count(*) > 0
    ) v
)
SELECT u.code AS unit_code, u.name AS unit_name,
       a.code, a.name, a.lad_code, a.residents, a.method, a.values,
       CASE WHEN {with_lad_measures} AND a.nth_in_lad = 1 THEN (
           SELECT json_agg(json_build_array(s.domain_code, s.measure, s.value, s.rank))
           FROM lad_summary_measure s
           WHERE s.edition_code = %(edition)s::text AND s.lad_code = a.lad_code)
       END AS lad_measures,
       COALESCE((SELECT version FROM data_version WHERE id = 1), 0) AS data_version
FROM unit u
LEFT JOIN valued a ON true
ORDER BY a.code;
