-- An area of LSOAs' most frequent police.uk map-point descriptions in a window, from the
-- counts per location of its LSOAs of one generation (crime_location_count).
SELECT location, sum(crimes) AS crimes
FROM crime_location_count
WHERE generation = %(generation)s AND lsoa_code = ANY(%(codes)s)
  AND month BETWEEN %(first)s AND %(last)s
  AND (%(crime_type)s::text IS NULL OR crime_type = %(crime_type)s)
GROUP BY location
ORDER BY sum(crimes) DESC, location
LIMIT %(limit)s;
