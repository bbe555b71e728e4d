-- Whether a drawn area (WKB in EPSG:4326) is a valid geometry, as given and once projected to
-- British National Grid, with GEOS's reason when it is not. Input is never repaired: an invalid
-- area is refused with the reason (self-intersection, overlapping parts, ring not closed...).
WITH given AS (
    SELECT ST_GeomFromWKB(%(wkb)s::bytea, 4326) AS geom
)
SELECT ST_IsValid(geom) AS valid,
       ST_IsValidReason(geom) AS reason,
       ST_IsValid(ST_Transform(geom, 27700)) AS valid_27700,
       ST_IsValidReason(ST_Transform(geom, 27700)) AS reason_27700
FROM given;
