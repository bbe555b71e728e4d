-- The latest month held for some forces.
SELECT max(month) FROM crime_month WHERE force = ANY(%(forces)s);
