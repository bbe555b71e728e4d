-- Remove one group's (or organiser's) pieces before it is cut again, returning the LSOAs they
-- were in and the H3 cells whose centres they held: what must be recomputed besides what the
-- new area touches. {pieces} and {owner} are fixed names: group_lsoa/group_id or
-- organiser_lsoa/organiser_id.
WITH old AS (
    DELETE FROM {pieces} WHERE {owner} = %(id)s RETURNING lsoa_code, piece
)
SELECT ARRAY(SELECT lsoa_code FROM old) AS lsoas,
       ARRAY(SELECT DISTINCT a.cell FROM old JOIN h3_cell_adults a ON ST_Intersects(old.piece, a.centre)) AS cells;
