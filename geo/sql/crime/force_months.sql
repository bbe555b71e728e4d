-- The force-months held for some forces in a window, with the types their files carry.
SELECT force, month, crime_types, no_location
FROM crime_month
WHERE force = ANY(%(forces)s) AND month BETWEEN %(first)s AND %(last)s
ORDER BY month, force;
