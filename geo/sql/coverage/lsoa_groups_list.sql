-- The listed groups working in an LSOA, with their public fields only (never the leader's
-- contact details) and the share of the LSOA's area their area covers; active ones first.
SELECT g.reference, g.name, g.kind, g.meeting_place, g.last_activity_on,
       coalesce(g.last_activity_on >= %(since)s, false) AS active,
       least(1.0, ST_Area(gl.piece) / nullif(ST_Area(c.geom), 0)) AS share_of_lsoa
FROM group_lsoa gl
JOIN community_group g ON g.id = gl.group_id
JOIN lsoa_coverage c ON c.code = gl.lsoa_code
WHERE gl.lsoa_code = %(code)s AND g.listed
ORDER BY active DESC, share_of_lsoa DESC, g.reference;
