-- Insert a neighbourhood area application (geometry already validated and measured in
-- EPSG:27700 by geo.groups.measure_area); its reference is NA- and its id unless given.
WITH n AS (SELECT nextval(pg_get_serial_sequence('neighbourhood_area', 'id')) AS id),
g AS (SELECT ST_Multi(ST_GeomFromWKB(%(wkb)s::bytea, 27700)) AS geom)
INSERT INTO neighbourhood_area (id, reference, name, applicant_type, applicant_name, group_id,
                                kind, whole_parish, status, applied_on, last_step_on, geom,
                                geom_4326, area_ha, lad_codes, principal_lad_code, website,
                                is_example, source, created_by)
SELECT n.id, coalesce(%(reference)s, 'NA-' || lpad(n.id::text, 6, '0')), %(name)s,
       %(applicant_type)s, %(applicant_name)s, %(group_id)s, %(kind)s, %(whole_parish)s,
       'applied', %(applied_on)s, %(applied_on)s, g.geom, ST_Multi(ST_Transform(g.geom, 4326)),
       ST_Area(g.geom) / 10000.0, %(lad_codes)s, %(principal_lad_code)s, %(website)s,
       %(is_example)s, %(source)s, %(actor)s
FROM n, g
RETURNING id, reference;
