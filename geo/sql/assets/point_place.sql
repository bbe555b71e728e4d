-- An asset's point (WGS84 in, British National Grid out) and the LSOA of the edition's
-- geography containing it, with its district and IMD decile; the first CTEs of insert.sql and
-- update_facts.sql, which put them in place of their /*point_place*/.
WITH point AS (
    SELECT ST_Transform(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), 27700) AS geom
), place AS (
    SELECT d.code, d.lad_code, d.imd_decile
    FROM lsoa_deprivation d, point
    WHERE d.edition_code = %(edition)s AND ST_Intersects(d.geom, point.geom)
    ORDER BY d.code
    LIMIT 1
)
