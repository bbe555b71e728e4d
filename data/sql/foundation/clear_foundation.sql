-- Remove the foundation data before a reload (inside the load's transaction). DELETE, not
-- TRUNCATE: TRUNCATE's exclusive lock would block readers until commit, while DELETE lets
-- them go on seeing the previous rows.
-- The editions, their domains and the index values are kept and brought in line afterwards
-- (foundation/insert_edition.sql, insert_domain.sql, index_values_write.sql), so a reload
-- rewrites only the values that changed; no edition is current until the load says which is.
-- The boundaries (lad, ward, lsoa) are kept likewise and brought in line by
-- foundation/insert_boundaries.sql.
DELETE FROM lad_summary_measure;
DELETE FROM lad_published_measure;
DELETE FROM lsoa_population_denominator;
UPDATE index_edition SET is_current = false WHERE is_current;
DELETE FROM lsoa_population_estimate;
DELETE FROM lsoa_2011_2021;
DELETE FROM postcode;
