-- Keep the public map layer (collection neighbourhood-groups) in step with the groups in
-- %(ids)s (NULL: every group), set-based, in the caller's transaction. Only listed groups are
-- served, and only public fields: group_serving has no column for a leader's contact details.
-- Whether a group is active is decided as of the write (activity on or after
-- %(active_since)s). Tile geometries are simplified like the LSOA layers
-- (data/sql/foundation/refresh_serving.sql): about one MVT unit at zoom 7 (low) and zoom 10 (mid).
WITH target AS (
    SELECT g.*
    FROM community_group g
    WHERE %(ids)s::bigint[] IS NULL OR g.id = ANY(%(ids)s::bigint[])
), dropped AS (
    DELETE FROM group_serving s
    WHERE (%(ids)s::bigint[] IS NULL OR s.fid = ANY(%(ids)s::bigint[]))
      AND NOT EXISTS (SELECT 1 FROM target t WHERE t.id = s.fid AND t.listed)
    RETURNING s.fid
), ratings AS (
    SELECT r.group_id, avg(r.stars)::float8 AS average, count(*)::int AS n
    FROM group_rating r
    JOIN target t ON t.id = r.group_id
    WHERE r.status = 'published'
    GROUP BY r.group_id
)
INSERT INTO group_serving (fid, reference, name, kind, description, meeting_place, leader_name,
                           principal_lad_code, area_km2, active, last_activity_on, rating_average,
                           rating_count, is_synthetic, geom, geom_4326, geom_3857, geom_3857_low,
                           geom_3857_mid)
SELECT t.id, t.reference, t.name, t.kind, t.description, t.meeting_place, t.leader_name,
       t.principal_lad_code, t.area_km2,
       coalesce(t.last_activity_on >= %(active_since)s::date, false),
       t.last_activity_on::text, ra.average, coalesce(ra.n, 0), t.is_synthetic,
       t.area, ST_Transform(t.area, 4326), p.geom_3857,
       ST_SimplifyPreserveTopology(p.geom_3857, 76),
       ST_SimplifyPreserveTopology(p.geom_3857, 9.5)
FROM target t
CROSS JOIN LATERAL (SELECT ST_Transform(t.area, 3857) AS geom_3857) p
LEFT JOIN ratings ra ON ra.group_id = t.id
WHERE t.listed
ON CONFLICT (fid) DO UPDATE SET
    reference = EXCLUDED.reference, name = EXCLUDED.name, kind = EXCLUDED.kind,
    description = EXCLUDED.description, meeting_place = EXCLUDED.meeting_place,
    leader_name = EXCLUDED.leader_name, principal_lad_code = EXCLUDED.principal_lad_code,
    area_km2 = EXCLUDED.area_km2, active = EXCLUDED.active,
    last_activity_on = EXCLUDED.last_activity_on, rating_average = EXCLUDED.rating_average,
    rating_count = EXCLUDED.rating_count, is_synthetic = EXCLUDED.is_synthetic,
    geom = EXCLUDED.geom, geom_4326 = EXCLUDED.geom_4326, geom_3857 = EXCLUDED.geom_3857,
    geom_3857_low = EXCLUDED.geom_3857_low, geom_3857_mid = EXCLUDED.geom_3857_mid;
