-- The figures of resolution-8 cells from the bits of their resolution-9 children: masks (a
-- fixed fragment below: a CTE or table of fid, covered_children, organised_children) gives each
-- cell's bits, and its sums are h3_children_sum of the children's adults kept in
-- h3_children_adults (migration 0012), counted in whole billionths of an adult (exact, so
-- they do not depend on order) and stored as float8. The one place both a write
-- (coverage/h3_cells.sql) and a national recompute (coverage/h3_all.sql) compute them, so
-- both store the same values to the last bit. A cell without its children's adults (which
-- the grid keeps: never expected) gets NULL sums, which the write's NOT NULL columns refuse.
SELECT m.fid, m.covered_children, m.organised_children,
       (h3_children_sum(m.covered_children, c.adults_e9) / 1e9)::float8 AS adults_covered,
       (h3_children_sum(m.covered_children, c.deprived_adults_e9) / 1e9)::float8
           AS deprived_adults_covered,
       (h3_children_sum(m.organised_children, c.adults_e9) / 1e9)::float8
           AS adults_organiser_covered
FROM {masks} m
LEFT JOIN h3_children_adults c ON c.fid = m.fid
