-- A listed neighbourhood group's area (EPSG:27700).
SELECT name, ST_AsEWKB(area) AS geom FROM community_group WHERE reference = %(reference)s AND listed;
