-- An area's most frequent police.uk map-point descriptions in a window.
SELECT c.location, count(*) AS crimes
FROM crime c
WHERE {area} AND c.month BETWEEN %(first)s AND %(last)s AND c.location IS NOT NULL
  AND (%(crime_type)s::text IS NULL OR c.crime_type = %(crime_type)s)
GROUP BY c.location
ORDER BY count(*) DESC, c.location
LIMIT %(limit)s;
