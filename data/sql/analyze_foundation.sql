-- Fresh planner statistics after a reload.
ANALYZE lad; ANALYZE ward; ANALYZE lsoa; ANALYZE lsoa_index_value; ANALYZE lad_summary_measure;
ANALYZE lsoa_population_denominator; ANALYZE lsoa_population_estimate; ANALYZE postcode;
ANALYZE lsoa_2011_2021;
