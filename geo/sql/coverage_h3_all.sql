-- Write the staged resolution-9 cells whose coverage changed, keeping what changed in each
-- (new minus old) for coverage_h3_parents_all.sql. The changes are found first, in one join,
-- and the cells then written from them by coverage_h3_update.sql (inserted as the last
-- statement): cheaper than an UPDATE joining the table to itself again for the old values.
INSERT INTO coverage_cell_delta
SELECT n.cell, n.covered, n.organised,
       CASE WHEN n.covered THEN h.adults ELSE 0 END - h.adults_covered,
       CASE WHEN n.covered THEN h.deprived_adults ELSE 0 END - h.deprived_adults_covered,
       CASE WHEN n.organised THEN h.adults ELSE 0 END - h.adults_organiser_covered
FROM coverage_cell_state n
JOIN h3_coverage h ON h.fid = n.cell
WHERE h.resolution = 9
  AND (h.adults_covered, h.deprived_adults_covered, h.adults_organiser_covered)
      IS DISTINCT FROM (
          CASE WHEN n.covered THEN h.adults ELSE 0 END,
          CASE WHEN n.covered THEN h.deprived_adults ELSE 0 END,
          CASE WHEN n.organised THEN h.adults ELSE 0 END);
WITH computed AS (SELECT cell, covered, organised FROM coverage_cell_delta)
{update};
