-- An area's crimes in a window, by police.uk map point (several crimes share one point).
SELECT round(ST_X(c.geom_4326)::numeric, 6)::float AS lon,
       round(ST_Y(c.geom_4326)::numeric, 6)::float AS lat,
       count(*) AS crimes, array_agg(DISTINCT c.crime_type ORDER BY c.crime_type) AS types,
       min(c.location) AS location
FROM crime c
WHERE {area} AND c.month BETWEEN %(first)s AND %(last)s AND c.geom IS NOT NULL
GROUP BY c.geom_4326
ORDER BY count(*) DESC
LIMIT %(limit)s;
