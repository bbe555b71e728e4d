-- The point indexes an import dropped (gist_drop.sql), built again over the whole table.
CREATE INDEX ix_crime_geom ON crime USING gist (geom);
CREATE INDEX ix_crime_geom_3857 ON crime USING gist (geom_3857);
