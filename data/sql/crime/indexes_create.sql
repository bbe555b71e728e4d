-- The indexes indexes_drop.sql dropped, as migrations 0013 and 0020 define them.
CREATE INDEX ix_crime_force_month ON crime (force, month);
CREATE INDEX ix_crime_lsoa11_month ON crime (lsoa11_code, month);
CREATE INDEX ix_crime_lsoa21_month ON crime (lsoa21_code, month);
CREATE INDEX ix_crime_h3_month ON crime (h3_fid, month) INCLUDE (crime_type, location);
CREATE INDEX ix_crime_geom ON crime USING gist (geom);
CREATE INDEX ix_crime_geom_3857 ON crime USING gist (geom_3857);
