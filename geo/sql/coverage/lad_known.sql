-- Whether a district has LSOAs in the coverage layer.
SELECT EXISTS (SELECT 1 FROM lsoa_coverage WHERE lad_code = %(lad)s);
