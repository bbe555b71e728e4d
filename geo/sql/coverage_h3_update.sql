-- The write of coverage_h3_cells.sql (inserted as {update}; coverage_h3_all.sql does the same):
-- a covered cell counts all its adults (and its deprived adults), an uncovered one none.
UPDATE h3_coverage h
SET adults_covered = CASE WHEN n.covered THEN h.adults ELSE 0 END,
    covered_share = CASE WHEN n.covered AND h.adults > 0 THEN 1 ELSE 0 END,
    deprived_adults_covered = CASE WHEN n.covered THEN h.deprived_adults ELSE 0 END,
    adults_organiser_covered = CASE WHEN n.organised THEN h.adults ELSE 0 END
FROM computed n
WHERE h.resolution = 9 AND h.fid = n.cell
  AND (h.adults_covered, h.deprived_adults_covered, h.adults_organiser_covered) IS DISTINCT FROM (
      CASE WHEN n.covered THEN h.adults ELSE 0 END,
      CASE WHEN n.covered THEN h.deprived_adults ELSE 0 END,
      CASE WHEN n.organised THEN h.adults ELSE 0 END)
