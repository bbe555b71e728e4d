-- Assets with their derived place and lifecycle, filtered by whichever parameters are given
-- (NULL means "any"); the point and site polygon come back in EPSG:4326 for the API. A group
-- (its reference) selects the assets inside its area and those it nominated or bid for.
SELECT a.id, a.reference, a.name, a.category, a.owner_type, a.description, a.address,
       a.postcode, a.uprn, a.organisation, a.notes, a.is_example, a.source, a.edition_code,
       a.lsoa_code, a.lad_code, a.imd_decile,
       ST_X(ST_Transform(a.geom, 4326)) AS lon, ST_Y(ST_Transform(a.geom, 4326)) AS lat,
       ST_AsGeoJSON(ST_Transform(a.site_geom, 4326), 6)::json AS site,
       ST_AsText(ST_Transform(a.site_geom, 4326), 6) AS site_wkt,
       a.status, a.nominated_on, a.nominating_group, a.nominating_body_type, a.decided_on,
       a.listed_on, a.decline_reason, a.review_requested_on, a.notice_received_on,
       a.bid_requested_on, a.interest_group, a.disposed_on, a.exemption, a.removed_on,
       a.removal_reason, a.last_step_on, a.created_by, a.created_at, a.updated_at, a.version
FROM asset a
WHERE (%(id)s::bigint IS NULL OR a.id = %(id)s::bigint)
  AND (%(lad)s::text IS NULL OR a.lad_code = %(lad)s::text)
  AND (%(statuses)s::text[] IS NULL OR a.status = ANY(%(statuses)s::text[]))
  AND (%(category)s::text IS NULL OR a.category = %(category)s::text)
  AND (%(max_decile)s::int IS NULL OR a.imd_decile <= %(max_decile)s::int)
  AND (%(group)s::text IS NULL OR EXISTS (
        SELECT 1 FROM community_group g
        WHERE g.reference = %(group)s::text
          AND (ST_Intersects(g.area, a.geom)
               OR lower(a.nominating_group) = lower(g.name)
               OR lower(a.interest_group) = lower(g.name))))
ORDER BY a.id
LIMIT %(limit)s
