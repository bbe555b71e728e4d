-- The write shared by coverage/h3_cells.sql, coverage/h3_parents.sql and coverage/h3_all.sql
-- (inserted as their last part): each resolution 6-8 cell of their parent_sums (fid, its three
-- covered counts and, for resolution 8, the bits of its covered and organised resolution-9
-- children; 0 for coarser cells) takes those values, and covered_share follows; rows whose
-- values are unchanged are not written.
UPDATE h3_coverage h
SET adults_covered = n.adults_covered,
    covered_share = CASE WHEN h.adults > 0 THEN least(1.0, n.adults_covered / h.adults) ELSE 0 END,
    deprived_adults_covered = n.deprived_adults_covered,
    adults_organiser_covered = n.adults_organiser_covered,
    covered_children = n.covered_children,
    organised_children = n.organised_children
FROM parent_sums n
WHERE h.resolution < 9 AND h.fid = n.fid
  AND (h.adults_covered, h.deprived_adults_covered, h.adults_organiser_covered,
       h.covered_children, h.organised_children)
      IS DISTINCT FROM (n.adults_covered, n.deprived_adults_covered, n.adults_organiser_covered,
                        n.covered_children, n.organised_children)
