-- The LSOA of a postcode in a geography vintage. The postcode directory gives the 2021 LSOA;
-- for 2011 geography follow the ONS 2011->2021 lookup, and where several 2011 LSOAs map to it
-- (a merge) take the one containing the postcode's centroid, else the nearest.
SELECT CASE WHEN %(vintage)s = p.lsoa_vintage THEN p.lsoa_code ELSE (
           SELECT l.code FROM lsoa_2011_2021 c
           JOIN lsoa l ON l.vintage = 2011 AND l.code = c.lsoa11_code
           WHERE c.lsoa21_code = p.lsoa_code
           ORDER BY ST_Distance(l.geom, p.geom), l.code LIMIT 1)
       END AS lsoa_code,
       ST_X(p.geom_4326) AS lon, ST_Y(p.geom_4326) AS lat
FROM postcode p
WHERE p.postcode = %(postcode)s;
