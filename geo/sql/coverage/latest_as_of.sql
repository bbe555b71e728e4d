-- The latest date coverage was computed on (the activity window the totals count groups by).
SELECT max(as_of) FROM lsoa_coverage;
