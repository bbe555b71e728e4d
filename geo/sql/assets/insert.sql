-- Insert an asset, deriving its LSOA, district and IMD decile from its point in the edition's
-- geography (IoD2025: LSOA 2021), tested in British National Grid where the polygons are
-- held. No row comes back when no loaded LSOA contains the point (outside England).
/*point_place*/, new_id AS (
    SELECT nextval(pg_get_serial_sequence('asset', 'id')) AS id
)
INSERT INTO asset (
    id, reference, name, category, owner_type, description, address, postcode, uprn,
    organisation, notes, is_example, source, edition_code, lsoa_code, lad_code, imd_decile,
    geom, site_geom, created_by
)
SELECT new_id.id, coalesce(%(reference)s::text, 'platoons-acv-' || new_id.id), %(name)s,
       %(category)s, %(owner_type)s, %(description)s, %(address)s, %(postcode)s, %(uprn)s,
       %(organisation)s, %(notes)s, %(is_example)s, %(source)s, %(edition)s, place.code,
       place.lad_code, place.imd_decile, point.geom,
       ST_Multi(ST_GeomFromWKB(%(site_wkb)s::bytea, 27700)), %(actor)s
FROM point, place, new_id
RETURNING id, lad_code;
