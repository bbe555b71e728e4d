-- Write an organiser's editable fields after a checked edit (the caller holds the row lock);
-- the patch is replaced only when a new one is given.
UPDATE organiser SET
    name = %(name)s,
    email = %(email)s,
    phone = %(phone)s,
    training_centre = %(training_centre)s,
    trained_on = %(trained_on)s,
    active = %(active)s,
    patch = coalesce(ST_GeomFromWKB(%(patch_wkb)s::bytea, 27700), patch),
    patch_area_km2 = %(patch_area_km2)s,
    lad_codes = %(lad_codes)s::text[],
    updated_at = now(),
    version = version + 1
WHERE id = %(id)s AND version = %(version)s
RETURNING version;
