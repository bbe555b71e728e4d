-- Whether every LSOA's coverage was computed on a date or later (a national recompute ran).
SELECT coalesce(min(as_of) >= %(day)s, false) FROM lsoa_coverage;
