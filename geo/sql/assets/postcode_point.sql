-- The centroid of a postcode in longitude/latitude (the directory covers what is loaded).
SELECT ST_X(geom_4326) AS lon, ST_Y(geom_4326) AS lat
FROM postcode
WHERE postcode = %(postcode)s;
