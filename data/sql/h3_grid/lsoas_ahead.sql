-- lsoas.sql read before lsoa_coverage is written (data/h3_grid.py: grid_ahead): the LSOAs
-- lsoa_coverage will hold (geo/sql/coverage/lsoa_base_fresh.sql: the edition's rows of
-- lsoa_deprivation, from data/sql/foundation/refresh_serving.sql), from the tables they are
-- made from. The grid computed from them is used only if lsoas.sql reads the same later.
SELECT l.code, ST_AsBinary(l.geom_4326) AS boundary_wkb,
       ST_X(inside.point) AS inside_lon, ST_Y(inside.point) AS inside_lat,
       coalesce(p.adults_18_plus, 0) AS adults, v.imd_decile
FROM (
    SELECT lsoa_code, max(decile) FILTER (WHERE domain_code = 'imd') AS imd_decile
    FROM lsoa_index_value
    WHERE edition_code = %(edition)s
    GROUP BY lsoa_code
) v
JOIN index_edition e ON e.code = %(edition)s
JOIN lsoa l ON l.vintage = e.lsoa_vintage AND l.code = v.lsoa_code
JOIN lad ON lad.vintage = l.lad_vintage AND lad.code = l.lad_code
LEFT JOIN lsoa_population p ON p.edition_code = %(edition)s AND p.lsoa_code = l.code
CROSS JOIN LATERAL (SELECT ST_Transform(ST_PointOnSurface(l.geom), 4326) AS point) inside
ORDER BY l.code;
