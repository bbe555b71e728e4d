-- An area's crimes by month and type in a window (the area condition comes from geo/crime).
SELECT c.month, c.crime_type, count(*) AS crimes, count(c.location) AS located
FROM crime c
WHERE {area} AND c.month BETWEEN %(first)s AND %(last)s
  AND (%(crime_type)s::text IS NULL OR c.crime_type = %(crime_type)s)
GROUP BY c.month, c.crime_type;
