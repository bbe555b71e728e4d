-- Neighbourhood areas with their applicant group's reference and geometry as GeoJSON
-- (EPSG:4326, 7 decimals: about 1 cm); every filter is off when its parameter is NULL.
SELECT a.id, a.reference, a.name, a.applicant_type, a.applicant_name, a.group_id,
       g.reference AS group_reference, a.kind, a.whole_parish, a.status, a.applied_on,
       a.publicised_on, a.decided_on, a.decided_late, a.reason, a.last_step_on, a.area_ha,
       a.lad_codes, a.principal_lad_code, a.website, a.is_example, a.source, a.created_by,
       a.created_at, a.updated_at, a.version,
       ST_AsGeoJSON(a.geom_4326, 7)::json AS geometry
FROM neighbourhood_area a
LEFT JOIN community_group g ON g.id = a.group_id
WHERE (%(id)s::bigint IS NULL OR a.id = %(id)s::bigint)
  AND (%(reference)s::text IS NULL OR a.reference = %(reference)s::text)
  AND (%(lad)s::text IS NULL OR %(lad)s::text = ANY(a.lad_codes))
  AND (%(status)s::text IS NULL OR a.status = %(status)s::text)
  AND (%(group_id)s::bigint IS NULL OR a.group_id = %(group_id)s::bigint
       OR EXISTS (SELECT 1 FROM neighbourhood_forum f
                  WHERE f.area_id = a.id AND f.group_id = %(group_id)s::bigint))
ORDER BY a.id
LIMIT %(limit)s
