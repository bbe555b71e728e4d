-- Fresh planner statistics after a reload (autovacuum may be off or slow to notice); the
-- serving tables are analysed in the load's transaction (foundation/refresh_serving.sql).
ANALYZE lad; ANALYZE ward; ANALYZE lsoa; ANALYZE lsoa_index_value; ANALYZE lad_summary_measure;
ANALYZE lsoa_population_denominator; ANALYZE lsoa_population_estimate; ANALYZE postcode;
ANALYZE lsoa_2011_2021; ANALYZE lsoa_population;
ANALYZE programme_lsoa_eligibility; ANALYZE grant_programme;
