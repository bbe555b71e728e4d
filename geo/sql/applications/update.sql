-- Replace a draft's editable fields (the caller holds the row lock and has checked the
-- version); the area is kept unless a new code or polygon (EPSG:27700 WKB) is given.
UPDATE grant_application SET
    programme_id = %(programme_id)s,
    applicant_name = %(applicant_name)s,
    applicant_org_id = %(applicant_org_id)s,
    title = %(title)s,
    description = %(description)s,
    amount = %(amount)s,
    area_code = CASE WHEN %(keep_area)s THEN area_code ELSE %(area_code)s END,
    area = CASE WHEN %(keep_area)s THEN area
                WHEN %(wkb)s::bytea IS NULL THEN NULL
                ELSE ST_Multi(ST_GeomFromWKB(%(wkb)s::bytea, 27700)) END,
    updated_at = now(),
    version = version + 1
WHERE id = %(id)s AND status = 'draft';
