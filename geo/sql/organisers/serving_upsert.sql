-- Keep the organisers' map layer (collection community-organisers) in step with the organisers
-- in %(ids)s (NULL: every organiser), set-based, in the caller's transaction: public fields
-- only (organiser_serving has no column for contact details), with the number of listed groups
-- each helped start; tile geometries simplified like the LSOA layers.
WITH target AS (
    SELECT o.*
    FROM organiser o
    WHERE %(ids)s::bigint[] IS NULL OR o.id = ANY(%(ids)s::bigint[])
), dropped AS (
    DELETE FROM organiser_serving s
    WHERE (%(ids)s::bigint[] IS NULL OR s.fid = ANY(%(ids)s::bigint[]))
      AND NOT EXISTS (SELECT 1 FROM target t WHERE t.id = s.fid)
    RETURNING s.fid
), started AS (
    SELECT g.started_by_organiser_id AS id, count(*)::int AS n
    FROM community_group g
    JOIN target t ON t.id = g.started_by_organiser_id
    WHERE g.listed
    GROUP BY g.started_by_organiser_id
)
INSERT INTO organiser_serving (fid, reference, name, training_centre, trained_on, active,
                               groups_started, patch_area_km2, is_synthetic, geom, geom_4326,
                               geom_3857, geom_3857_low, geom_3857_mid)
SELECT t.id, t.reference, t.name, t.training_centre, t.trained_on::text, t.active,
       coalesce(st.n, 0), t.patch_area_km2, t.is_synthetic, t.patch,
       ST_Transform(t.patch, 4326), p.geom_3857,
       ST_SimplifyPreserveTopology(p.geom_3857, 76),
       ST_SimplifyPreserveTopology(p.geom_3857, 9.5)
FROM target t
CROSS JOIN LATERAL (SELECT ST_Transform(t.patch, 3857) AS geom_3857) p
LEFT JOIN started st ON st.id = t.id
ON CONFLICT (fid) DO UPDATE SET
    reference = EXCLUDED.reference, name = EXCLUDED.name,
    training_centre = EXCLUDED.training_centre, trained_on = EXCLUDED.trained_on,
    active = EXCLUDED.active, groups_started = EXCLUDED.groups_started,
    patch_area_km2 = EXCLUDED.patch_area_km2, is_synthetic = EXCLUDED.is_synthetic,
    geom = EXCLUDED.geom, geom_4326 = EXCLUDED.geom_4326, geom_3857 = EXCLUDED.geom_3857,
    geom_3857_low = EXCLUDED.geom_3857_low, geom_3857_mid = EXCLUDED.geom_3857_mid;
