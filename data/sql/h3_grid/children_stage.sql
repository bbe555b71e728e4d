-- After the grid changed: the adults of each resolution-8 cell's resolution-9 children, by
-- digit, in whole billionths of an adult (migration 0012: element d + 1 is the child whose
-- resolution-9 digit is d, and 0 where there is none), computed in Python from the grid just
-- written (data/h3_grid.py: children_adults), copied here, then written where they changed
-- (children.sql).
CREATE TEMP TABLE coverage_grid_children (
    fid bigint, adults_e9 bigint[], deprived_adults_e9 bigint[]
) ON COMMIT DROP;
