-- Record a trained community organiser; the reference ("CO-" and the zero-padded id) is
-- allocated from the identity in the same statement.
WITH new_id AS (
    SELECT nextval(pg_get_serial_sequence('organiser', 'id')) AS id
)
INSERT INTO organiser (id, reference, name, email, phone, training_centre, trained_on, active,
                       patch, patch_area_km2, lad_codes, created_by)
SELECT new_id.id, 'CO-' || lpad(new_id.id::text, 5, '0'), %(name)s, %(email)s, %(phone)s,
       %(training_centre)s, %(trained_on)s, %(active)s,
       ST_GeomFromWKB(%(patch_wkb)s::bytea, 27700), %(patch_area_km2)s, %(lad_codes)s::text[],
       %(actor)s
FROM new_id
RETURNING id, reference;
