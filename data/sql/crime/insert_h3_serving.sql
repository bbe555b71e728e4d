-- The per-H3 layers, from the staged cells (boundaries from the h3 library, EPSG:4326). The
-- table is emptied and its five GiST indexes (as migration 0013 defines them) are built again
-- after the insert: building them took a fraction of maintaining them polygon by polygon.
TRUNCATE crime_h3_serving;
DROP INDEX ix_crime_h3_serving_geom, ix_crime_h3_serving_geom_4326,
    ix_crime_h3_serving_geom_3857, ix_crime_h3_serving_geom_3857_low,
    ix_crime_h3_serving_geom_3857_mid;
INSERT INTO crime_h3_serving (fid, resolution, cell, crimes, crimes_last_12_months, geom,
                              geom_4326, geom_3857, geom_3857_low, geom_3857_mid)
SELECT s.fid, s.resolution, s.cell, s.crimes, s.crimes_last_12_months,
       ST_Transform(s.g, 27700), s.g, s.g_3857, s.g_3857, s.g_3857
FROM (SELECT h.*, ST_Transform(h.g, 3857) AS g_3857
      FROM (SELECT *, ST_SetSRID(ST_GeomFromText(boundary), 4326) AS g FROM crime_h3_stage) h) s;
CREATE INDEX ix_crime_h3_serving_geom ON crime_h3_serving USING gist (geom);
CREATE INDEX ix_crime_h3_serving_geom_4326 ON crime_h3_serving USING gist (geom_4326);
CREATE INDEX ix_crime_h3_serving_geom_3857 ON crime_h3_serving USING gist (geom_3857);
CREATE INDEX ix_crime_h3_serving_geom_3857_low ON crime_h3_serving USING gist (geom_3857_low);
CREATE INDEX ix_crime_h3_serving_geom_3857_mid ON crime_h3_serving USING gist (geom_3857_mid);
