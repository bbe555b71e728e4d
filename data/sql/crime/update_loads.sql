-- Each load's crimes outside the loaded boundaries: kept and flagged, or dropped (only_loaded).
UPDATE crime_load l
SET outside_boundaries_count = CASE WHEN %(only_loaded)s THEN 0 ELSE a.outside END,
    dropped_outside_count = CASE WHEN %(only_loaded)s THEN a.outside ELSE 0 END
FROM (SELECT s.load_id, count(*) FILTER (WHERE p.outside_boundaries) AS outside
      FROM crime_stage s JOIN crime_placed p ON p.place_id = s.place_id
      GROUP BY s.load_id) a
WHERE l.id = a.load_id;
