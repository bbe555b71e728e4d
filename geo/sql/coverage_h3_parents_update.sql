-- The write shared by coverage_h3_parents.sql, coverage_h3_parents_exact.sql and
-- coverage_h3_parents_all.sql (inserted as their last part): each resolution 6-8 cell of
-- their parent_sums (fid and its three covered counts) takes those counts, and covered_share
-- follows; rows whose counts are unchanged are not written.
UPDATE h3_coverage h
SET adults_covered = n.adults_covered,
    covered_share = CASE WHEN h.adults > 0 THEN least(1.0, n.adults_covered / h.adults) ELSE 0 END,
    deprived_adults_covered = n.deprived_adults_covered,
    adults_organiser_covered = n.adults_organiser_covered
FROM parent_sums n
WHERE h.fid = n.fid
  AND (h.adults_covered, h.deprived_adults_covered, h.adults_organiser_covered)
      IS DISTINCT FROM (n.adults_covered, n.deprived_adults_covered, n.adults_organiser_covered)
