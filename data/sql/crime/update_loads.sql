-- Each load's crimes outside the loaded boundaries: kept and flagged, or dropped (only_loaded).
UPDATE crime_load l
SET outside_boundaries_count = CASE WHEN %(only_loaded)s THEN 0 ELSE a.outside END,
    dropped_outside_count = CASE WHEN %(only_loaded)s THEN a.outside ELSE 0 END
FROM (SELECT load_id, count(*) FILTER (WHERE outside_boundaries) AS outside
      FROM crime_assigned GROUP BY load_id) a
WHERE l.id = a.load_id;
