-- Designated neighbourhood areas overlapping area %(id)s (s.61G(7) of the 1990 Act), with the
-- overlap in hectares measured in EPSG:27700; shared edges (no area) are not overlaps, nor
-- are slivers of at most %(tolerance_m2)s square metres left by drawing.
SELECT o.id, o.reference, o.name,
       ST_Area(ST_Intersection(o.geom, a.geom)) / 10000.0 AS overlap_ha
FROM neighbourhood_area a
JOIN neighbourhood_area o
  ON o.id <> a.id AND o.status = 'designated' AND ST_Intersects(o.geom, a.geom)
WHERE a.id = %(id)s
  AND ST_Area(ST_Intersection(o.geom, a.geom)) > %(tolerance_m2)s
ORDER BY overlap_ha DESC, o.id;
