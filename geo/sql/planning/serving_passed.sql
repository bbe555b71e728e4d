-- Areas whose map feature's next deadline has passed by %(day)s (an ISO date; the column holds
-- ISO dates, so text order is date order): their stage's next deadline must be recomputed.
SELECT fid FROM neighbourhood_area_serving
WHERE next_deadline IS NOT NULL AND next_deadline < %(day)s
ORDER BY fid;
