-- Remove the foundation data before a reload (inside the load's transaction). DELETE, not
-- TRUNCATE: TRUNCATE's exclusive lock would block readers until commit, while DELETE lets
-- them go on seeing the previous rows.
DELETE FROM lad_summary_measure;
DELETE FROM lad_published_measure;
DELETE FROM lsoa_index_value;
DELETE FROM lsoa_population_denominator;
DELETE FROM index_domain;
DELETE FROM index_edition;
DELETE FROM lsoa_population_estimate;
DELETE FROM lsoa_2011_2021;
DELETE FROM postcode;
DELETE FROM lsoa;
DELETE FROM ward;
DELETE FROM lad;
