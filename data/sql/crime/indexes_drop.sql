-- An import drops the secondary indexes of crime and builds them again after its insert
-- (indexes_create.sql): building is much faster than maintaining them row by row, above all
-- the GiSTs, since police.uk points repeat. The table is locked until the import commits.
DROP INDEX IF EXISTS ix_crime_force_month;
DROP INDEX IF EXISTS ix_crime_lsoa11_month;
DROP INDEX IF EXISTS ix_crime_lsoa21_month;
DROP INDEX IF EXISTS ix_crime_h3_month;
DROP INDEX IF EXISTS ix_crime_geom;
DROP INDEX IF EXISTS ix_crime_geom_3857;
