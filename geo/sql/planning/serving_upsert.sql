-- Keep the map layer (collection neighbourhood-areas) in step with one area, in the
-- transaction of the write. The stage and next deadline are computed by geo/planning/rules.py
-- as of the write. Tile geometries are simplified like the groups' layer: about one MVT unit
-- at zoom 7 (low) and zoom 10 (mid).
INSERT INTO neighbourhood_area_serving (fid, reference, name, status, kind, applicant_type,
                                        applicant_name, forum_reference, forum_status,
                                        plan_reference, plan_status, stage, next_deadline,
                                        next_deadline_kind, lad_codes, area_ha, is_example, geom,
                                        geom_4326, geom_3857, geom_3857_low, geom_3857_mid)
SELECT a.id, a.reference, a.name, a.status, a.kind, a.applicant_type, a.applicant_name,
       %(forum_reference)s, %(forum_status)s, %(plan_reference)s, %(plan_status)s, %(stage)s,
       %(next_deadline)s, %(next_deadline_kind)s, array_to_string(a.lad_codes, ','),
       round(a.area_ha::numeric, 2)::float8, a.is_example, a.geom, a.geom_4326, p.geom_3857,
       ST_SimplifyPreserveTopology(p.geom_3857, 76), ST_SimplifyPreserveTopology(p.geom_3857, 9.5)
FROM neighbourhood_area a
CROSS JOIN LATERAL (SELECT ST_Multi(ST_Transform(a.geom, 3857)) AS geom_3857) p
WHERE a.id = %(id)s
ON CONFLICT (fid) DO UPDATE SET
    reference = EXCLUDED.reference, name = EXCLUDED.name, status = EXCLUDED.status,
    kind = EXCLUDED.kind, applicant_type = EXCLUDED.applicant_type,
    applicant_name = EXCLUDED.applicant_name, forum_reference = EXCLUDED.forum_reference,
    forum_status = EXCLUDED.forum_status, plan_reference = EXCLUDED.plan_reference,
    plan_status = EXCLUDED.plan_status, stage = EXCLUDED.stage,
    next_deadline = EXCLUDED.next_deadline, next_deadline_kind = EXCLUDED.next_deadline_kind,
    lad_codes = EXCLUDED.lad_codes, area_ha = EXCLUDED.area_ha, is_example = EXCLUDED.is_example,
    geom = EXCLUDED.geom, geom_4326 = EXCLUDED.geom_4326, geom_3857 = EXCLUDED.geom_3857,
    geom_3857_low = EXCLUDED.geom_3857_low, geom_3857_mid = EXCLUDED.geom_3857_mid;
