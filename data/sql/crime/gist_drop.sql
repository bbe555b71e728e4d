-- Inserting many equal points (police.uk snaps crimes to shared map points) into a GiST is
-- slow; an import drops the point indexes and builds them again (a sorted build) after.
DROP INDEX IF EXISTS ix_crime_geom;
DROP INDEX IF EXISTS ix_crime_geom_3857;
