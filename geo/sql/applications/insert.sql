-- A new draft application. The area is a GSS code or a polygon already validated and projected
-- to British National Grid (EPSG:27700 WKB); the table's CHECK keeps exactly one of them.
INSERT INTO grant_application (
    programme_id, applicant_name, applicant_org_id, title, description, amount,
    area_code, area, created_by, owner_key_id)
VALUES (
    %(programme_id)s, %(applicant_name)s, %(applicant_org_id)s, %(title)s, %(description)s,
    %(amount)s, %(area_code)s,
    CASE WHEN %(wkb)s::bytea IS NULL THEN NULL
         ELSE ST_Multi(ST_GeomFromWKB(%(wkb)s::bytea, 27700)) END,
    %(created_by)s, %(owner_key_id)s)
RETURNING id;
