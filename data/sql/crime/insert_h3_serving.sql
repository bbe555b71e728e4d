-- The per-H3 layers, from the staged cells (boundaries from the h3 library, EPSG:4326).
DELETE FROM crime_h3_serving;
INSERT INTO crime_h3_serving (fid, resolution, cell, crimes, crimes_last_12_months, geom,
                              geom_4326, geom_3857, geom_3857_low, geom_3857_mid)
SELECT s.fid, s.resolution, s.cell, s.crimes, s.crimes_last_12_months,
       ST_Transform(s.g, 27700), s.g, ST_Transform(s.g, 3857), ST_Transform(s.g, 3857),
       ST_Transform(s.g, 3857)
FROM (SELECT *, ST_SetSRID(ST_GeomFromText(boundary), 4326) AS g FROM crime_h3_stage) s;
