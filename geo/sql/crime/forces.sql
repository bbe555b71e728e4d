-- The forces an area's figures depend on (geo/crime/reads.py puts the queries naming them,
-- joined by UNION, in the WITH), the latest month held for any of them, and their
-- force-months from %(first)s to %(last)s (none when not given) with the crime types their
-- files carry and their crimes without a location. One statement, so that a summary asks
-- once.
WITH forces AS ({forces}),
held AS (SELECT m.* FROM crime_month m WHERE m.force IN (SELECT force FROM forces))
SELECT coalesce((SELECT array_agg(DISTINCT force ORDER BY force) FROM forces),
                ARRAY[]::text[]) AS forces,
       (SELECT max(month) FROM held) AS latest,
       (SELECT coalesce(json_agg(json_build_object('month', month, 'crime_types', crime_types,
                                                   'no_location', no_location)
                                 ORDER BY month, force), '[]'::json)
        FROM held WHERE month BETWEEN %(first)s AND %(last)s) AS months;
