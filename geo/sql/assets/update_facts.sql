-- Rewrite an asset's facts from a newer edition of its source file, re-deriving its LSOA,
-- district and IMD decile from the point; no row comes back when nothing differs (an
-- unchanged re-import writes nothing) or when no loaded LSOA contains the new point.
/*point_place*/
UPDATE asset a
SET name = %(name)s, category = %(category)s, owner_type = %(owner_type)s,
    description = %(description)s, address = %(address)s, postcode = %(postcode)s,
    uprn = %(uprn)s, organisation = %(organisation)s, notes = %(notes)s,
    is_example = %(is_example)s, source = %(source)s, location_basis = %(location_basis)s,
    edition_code = %(edition)s, lsoa_code = place.code, lad_code = place.lad_code,
    imd_decile = place.imd_decile, geom = point.geom, updated_at = now(),
    version = a.version + 1
FROM point, place
WHERE a.id = %(id)s
  AND ((a.name, a.category, a.owner_type, a.description, a.address, a.postcode, a.uprn,
       a.organisation, a.notes, a.is_example, a.source, a.location_basis)
      IS DISTINCT FROM
      (%(name)s::text, %(category)s::text, %(owner_type)s::text, %(description)s::text,
       %(address)s::text, %(postcode)s::text, %(uprn)s::bigint, %(organisation)s::text,
       %(notes)s::text, %(is_example)s::boolean, %(source)s::text, %(location_basis)s::text)
      OR NOT ST_Equals(a.geom, point.geom))
RETURNING a.id;
