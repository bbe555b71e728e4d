-- A postcode district's place ("M33" alone): the postcode of the directory nearest the middle
-- of that district's postcodes, so the point is a real postcode inside a loaded LSOA.
WITH district AS (
    SELECT geom, geom_4326
    FROM postcode
    WHERE postcode LIKE %(outward)s || ' %%'
), middle AS (
    SELECT ST_Centroid(ST_Collect(geom)) AS geom FROM district
)
SELECT ST_X(d.geom_4326) AS lon, ST_Y(d.geom_4326) AS lat
FROM district d, middle m
WHERE m.geom IS NOT NULL
ORDER BY d.geom <-> m.geom
LIMIT 1;
