-- An area of LSOAs' crimes by month and type in a window: the counts of its LSOAs of one
-- generation added up (crime_lsoa_count, which every import keeps equal to its crimes).
SELECT month, crime_type, sum(crimes) AS crimes, sum(located) AS located
FROM crime_lsoa_count
WHERE generation = %(generation)s AND lsoa_code = ANY(%(codes)s)
  AND month BETWEEN %(first)s AND %(last)s
  AND (%(crime_type)s::text IS NULL OR crime_type = %(crime_type)s)
GROUP BY month, crime_type;
