-- District names to write on the map: each district of the current edition's geography whose
-- boundary meets the box, at a point inside it (ST_PointOnSurface), in WGS84.
SELECT l.code, l.name,
       ST_X(ST_PointOnSurface(l.geom_4326)) AS lon, ST_Y(ST_PointOnSurface(l.geom_4326)) AS lat
FROM lad l
JOIN index_edition e ON e.is_current AND l.vintage = e.lad_vintage
WHERE l.geom_4326 && ST_MakeEnvelope(%(west)s, %(south)s, %(east)s, %(north)s, 4326)
  AND EXISTS (SELECT 1 FROM lsoa s WHERE s.vintage = e.lsoa_vintage AND s.lad_code = l.code)
ORDER BY ST_Area(l.geom) DESC, l.code
LIMIT %(limit)s;
