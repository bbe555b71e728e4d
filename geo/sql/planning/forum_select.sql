-- Forums (of one area, or one forum), with their group's reference.
SELECT f.id, f.reference, f.area_id, a.reference AS area_reference, f.name, f.group_id,
       g.reference AS group_reference, f.status, f.cross_authority, f.applied_on,
       f.publicised_on, f.designated_on, f.decided_on, f.decided_late, f.ended_on, f.members,
       f.members_confirmed_on, f.open_membership, f.written_constitution, f.website, f.reason,
       f.last_step_on, f.is_example, f.created_by, f.created_at, f.updated_at, f.version,
       a.lad_codes
FROM neighbourhood_forum f
JOIN neighbourhood_area a ON a.id = f.area_id
LEFT JOIN community_group g ON g.id = f.group_id
WHERE (%(id)s::bigint IS NULL OR f.id = %(id)s::bigint)
  AND (%(area_id)s::bigint IS NULL OR f.area_id = %(area_id)s::bigint)
ORDER BY f.id
