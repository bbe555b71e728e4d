-- Cells whose adults changed take the new figures; their coverage (and, for resolution 8, the
-- bits of their children) is reset to nothing and recomputed by the national recompute that
-- follows every load.
UPDATE h3_coverage h
SET adults = s.adults, deprived_adults = s.deprived_adults,
    adults_covered = 0, covered_share = 0, deprived_adults_covered = 0,
    adults_organiser_covered = 0, covered_children = 0, organised_children = 0
FROM coverage_grid_stage s
WHERE h.fid = s.fid
  AND (h.adults, h.deprived_adults) IS DISTINCT FROM (s.adults, s.deprived_adults);
