-- Bring the pieces table (group_lsoa or organiser_lsoa, fixed fragments) in line with the
-- national cut staged by coverage/cut_stage.sql, writing only what changed: pieces no longer
-- cut, or cut differently (geometry = is exact equality of the coordinates), go; new and
-- changed ones come. A re-cut of unchanged areas and LSOAs, the usual case, writes nothing.
-- The staged cut is analysed on its keys only: the anti-joins' plans need their row counts,
-- not the statistics of the pieces' geometries (a third of the CPU of this step to gather).
ANALYZE coverage_cut (owner_id, lsoa_code);
DELETE FROM {pieces} p
WHERE NOT EXISTS (
    SELECT 1 FROM coverage_cut c
    WHERE c.owner_id = p.{owner} AND c.lsoa_code = p.lsoa_code AND c.piece = p.piece
);
INSERT INTO {pieces} ({owner}, lsoa_code, piece)
SELECT c.owner_id, c.lsoa_code, c.piece
FROM coverage_cut c
WHERE NOT EXISTS (
    SELECT 1 FROM {pieces} p WHERE p.{owner} = c.owner_id AND p.lsoa_code = c.lsoa_code
);
DROP TABLE coverage_cut;
