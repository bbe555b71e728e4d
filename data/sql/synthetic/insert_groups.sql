-- The planned groups with their measured areas, each started by its planned organiser if any.
-- References come from the identity as for registered groups ("NG-" and the zero-padded id),
-- in plan order.
INSERT INTO community_group (
    id, reference, name, kind, description, meeting_place, how_to_join, leader_name,
    leader_email, code_of_conduct_version, code_of_conduct_accepted_on, area, area_km2,
    area_lsoa_codes, lad_codes, principal_lad_code, started_by_organiser_id, listed,
    last_activity_on, is_synthetic, created_by
)
SELECT n.id, 'NG-' || lpad(n.id::text, 6, '0'), n.name, n.kind, n.description,
       n.meeting_place, n.how_to_join, n.leader_name, n.leader_email, n.code_of_conduct_version,
       n.code_of_conduct_accepted_on, n.geom, n.area_km2, n.lsoa_codes, n.lad_codes,
       n.principal_lad_code, n.organiser_id, true, n.last_activity_on, true, %(actor)s
FROM (
    SELECT nextval(pg_get_serial_sequence('community_group', 'id')) AS id, p.*, a.geom,
           a.area_km2, a.lad_codes, a.principal_lad_code, o.id AS organiser_id
    FROM synthetic_group_plan p
    JOIN synthetic_area a ON a.owner = 'group' AND a.ordinal = p.ordinal
    LEFT JOIN organiser o ON o.name = p.organiser_name AND o.is_synthetic
    ORDER BY p.ordinal
) n
RETURNING id;
