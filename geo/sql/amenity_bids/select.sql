-- Bids to run threatened amenities with their asset's name and district; every filter optional.
SELECT b.id, b.asset_id, a.name AS asset_name, a.lad_code, b.group_name, b.threat, b.proposal,
       b.status, b.expressed_on, b.decided_on, b.ended_on, b.reason, b.terms, b.last_step_on,
       b.version
FROM amenity_bid b
JOIN asset a ON a.id = b.asset_id
WHERE (%(id)s::bigint IS NULL OR b.id = %(id)s)
  AND (%(asset_id)s::bigint IS NULL OR b.asset_id = %(asset_id)s)
  AND (%(lad)s::text IS NULL OR a.lad_code = %(lad)s)
  AND (%(status)s::text IS NULL OR b.status = %(status)s)
ORDER BY b.expressed_on DESC, b.id DESC
