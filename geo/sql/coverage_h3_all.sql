-- Write the staged resolution-9 cells whose coverage changed (as coverage_h3_update.sql does)
-- and keep what changed in each (new minus old, read from the row before the update) for
-- coverage_h3_parents_all.sql.
WITH changed AS (
    UPDATE h3_coverage h
    SET adults_covered = CASE WHEN n.covered THEN h.adults ELSE 0 END,
        covered_share = CASE WHEN n.covered AND h.adults > 0 THEN 1 ELSE 0 END,
        deprived_adults_covered = CASE WHEN n.covered THEN h.deprived_adults ELSE 0 END,
        adults_organiser_covered = CASE WHEN n.organised THEN h.adults ELSE 0 END
    FROM coverage_cell_state n
    JOIN h3_coverage old ON old.fid = n.cell
    WHERE h.resolution = 9 AND h.fid = n.cell
      AND (old.adults_covered, old.deprived_adults_covered, old.adults_organiser_covered)
          IS DISTINCT FROM (
              CASE WHEN n.covered THEN old.adults ELSE 0 END,
              CASE WHEN n.covered THEN old.deprived_adults ELSE 0 END,
              CASE WHEN n.organised THEN old.adults ELSE 0 END)
    RETURNING h.fid,
              h.adults_covered - old.adults_covered,
              h.deprived_adults_covered - old.deprived_adults_covered,
              h.adults_organiser_covered - old.adults_organiser_covered
)
INSERT INTO coverage_cell_delta SELECT * FROM changed;
