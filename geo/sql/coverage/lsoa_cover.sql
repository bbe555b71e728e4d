-- What the active owners of one kind cover of each LSOA a fixed condition on c.code chooses
-- (lsoas): the number of their pieces there, whether one piece is the whole LSOA, and else the
-- area of the union of the pieces, so overlaps count once (no union is computed when one piece
-- is the whole LSOA or there is only one). Pieces are unioned in owner order, so a write and a
-- national recompute give the same numbers. Fixed fragments: pieces, owner and table are
-- group_lsoa/group_id/community_group or organiser_lsoa/organiser_id/organiser; active says
-- which owners count (a group: listed, latest activity on or after :since; an organiser:
-- active); kind is group or organiser. Used inline by coverage/lsoa.sql for a write, and by
-- coverage/lsoa_covers_all.sql for a national recompute.
SELECT '{kind}' AS kind, p.lsoa_code, count(*) AS owners, bool_or(p.piece = c.geom) AS whole,
       CASE WHEN count(*) = 1 THEN ST_Area((array_agg(p.piece))[1])
            WHEN bool_or(p.piece = c.geom) THEN NULL
            ELSE ST_Area(ST_Union(array_agg(p.piece ORDER BY p.{owner})))
       END AS area_m2
FROM lsoa_coverage c
JOIN {pieces} p ON p.lsoa_code = c.code
JOIN {table} o ON o.id = p.{owner}
WHERE {active} AND {lsoas}
GROUP BY p.lsoa_code
