-- Record one levy receipt for an area; the optional site is GeoJSON in EPSG:4326.
INSERT INTO levy_receipt (area_id, development, amount, received_on, plan_in_effect, site, notes,
                          recorded_by)
VALUES (%(area_id)s, %(development)s, %(amount)s, %(received_on)s, %(plan_in_effect)s,
        CASE WHEN %(site)s::text IS NULL THEN NULL
             ELSE ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON(%(site)s::text), 4326), 27700) END,
        %(notes)s, %(actor)s)
RETURNING id;
