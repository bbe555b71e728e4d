-- What one group's (or organiser's) current area touches: the LSOAs of its new pieces and the
-- H3 cells whose centres lie in it. {pieces}, {owner}, {table} and {area} are fixed names.
SELECT ARRAY(SELECT lsoa_code FROM {pieces} WHERE {owner} = %(id)s) AS lsoas,
       ARRAY(SELECT a.cell FROM {table} o JOIN h3_cell_adults a ON ST_Intersects(o.{area}, a.centre)
             WHERE o.id = %(id)s) AS cells;
