-- A registered neighbourhood group named by its reference or its name, and whether it has a
-- local connection with a district (2012 Regulations reg. 4(1): activities wholly or partly
-- concerned with the district or a neighbouring one): its area meets the district or a district
-- whose boundary lies within 50 m of it (the generalised boundaries leave slivers).
SELECT g.reference, g.name, g.lad_codes,
       EXISTS (
           SELECT 1
           FROM lad l
           JOIN lad n ON n.vintage = l.vintage AND ST_DWithin(n.geom, l.geom, 50)
           WHERE l.code = %(lad)s
             AND l.vintage = (SELECT max(vintage) FROM lad WHERE code = %(lad)s)
             AND ST_Intersects(n.geom, g.area)
       ) AS local_connection
FROM community_group g
WHERE g.listed AND (g.reference = %(group)s OR lower(g.name) = lower(%(group)s))
ORDER BY g.reference = %(group)s DESC, g.id
LIMIT 1;
